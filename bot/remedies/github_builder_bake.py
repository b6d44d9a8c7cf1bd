"""``github-builder`` for a ``docker/bake-action`` build: the call of
``docker/github-builder/.github/workflows/bake.yml`` (its inputs at the pinned release).

bake.yml builds one target (and the targets it names as ``target:`` contexts) from the Git
context, so the step must build exactly one target, read from its bake files as bake would
(``bot/bake``). What maps, input by input:

- ``source: "{{defaultContext}}:dir"`` or ``workdir`` -> ``context`` (the Git subdirectory bake
  reads its files from); ``files`` -> ``files``, relative to it (bake.yml's default is
  ``docker-bake.hcl`` alone, so bake's other default names are written out); the metadata
  step's bake file is not a file of ours: bake.yml runs docker/metadata-action itself from the
  ``meta-*`` inputs and adds its bake file (``set-meta-labels`` / ``set-meta-annotations`` for
  the labels and annotations variants);
- ``targets`` -> ``target``, the one target it resolves to (a group name is not a target there);
- ``set`` lines -> ``set``, except ``*.tags`` (bake.yml clears the tags, ``*.tags=``, and tags
  the merged image with the metadata: literal tags become ``meta-images``/``meta-tags``) and
  ``*.cache-from``/``*.cache-to`` of GitHub's cache (its ``cache`` inputs, scoped per platform);
- the step's, job's and workflow's ``env`` values for the bake file's variables -> ``vars``
  (a reusable workflow does not inherit the caller's environment);
- ``push`` and ``sbom`` as they are; ``provenance`` and ``github-token`` are bake.yml's own.

Anything else (outputs, secrets, SSH, attestations, loading, several targets, a definition
that cannot be read) declines with the reason.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from ..bake import BakeError, BakeTarget, read_step
from ..bake.definition import parse
from ..bake.step import META_TARGET, base_dir, set_lines
from ..workflows.model import Build, StepRef, Workflow
from .base import Decline, Situation
from .github_builder_values import CALL_CONTEXTS, EXPRESSION, METADATA_INPUTS, call_value, contexts_in, literal_tags

# bake-action inputs bake.yml takes under a name of its own, or needs not (its own provenance
# and token); any other input has no counterpart.
MAPPED = {"files", "targets", "set", "source", "workdir", "push", "sbom", "provenance", "github-token"}
DEFAULT_FILES = ["docker-bake.hcl"]
# `set:` attributes and bake file attributes bake.yml cannot take (it writes the output and the
# attestations itself; the caller's secrets and SSH agent do not reach its runners).
SET_LIMITS = {"output": "its own `output`", "push": "`push`", "load": "loading the image", "attest": "attestations",
              "secrets": "build secrets", "secret": "build secrets", "ssh": "SSH"}
TARGET_LIMITS = {"secret": "build secrets", "ssh": "SSH", "output": "its own `output`"}
_META_FILE = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.bake-file(-tags|-labels|-annotations)?\s*\}\}")


def _files(build: Build, files: list[str], base: str) -> str | None:
    """bake.yml's `files`: the definition files relative to its context (None: its default)."""
    relative = [posixpath.relpath(path, base or ".") for path in files]
    if relative == DEFAULT_FILES:
        return None
    return "\n".join(relative) + "\n"


def _meta(build: Build, meta: StepRef | None, metas: list[str], target_inherits: set[str],
          meta_target: str) -> dict[str, Any]:
    """The `meta-*` inputs when the target's tags come from the metadata step's bake file."""
    if len(set(metas)) > 1:
        raise Decline("the bake step reads the bake files of several metadata steps")
    if meta is None or meta.node.get("id") != metas[0]:
        raise Decline(f"the bake step reads the bake file of step `{metas[0]}`, which is not a docker/metadata-action "
                      "step before it")
    if meta_target not in target_inherits:
        raise Decline(f"the bake target does not inherit `{meta_target}`, so the metadata step's tags do not apply "
                      "to it")
    inputs = {k: str(v) for k, v in (meta.with_ or {}).items()}
    extra = set(inputs) - set(METADATA_INPUTS) - {"bake-target"}
    if extra:
        raise Decline(f"the metadata step sets {', '.join(sorted(extra))}, which github-builder does not take")
    out: dict[str, Any] = {METADATA_INPUTS[k]: v for k, v in inputs.items() if k in METADATA_INPUTS}
    if "bake-target" in inputs:
        out["meta-bake-target"] = inputs["bake-target"]
    kinds = {k for _, k in _META_FILE.findall(build.step.input("files") or "")}
    if kinds & {"", "-labels"}:  # `bake-file` is the tags and the labels
        out["set-meta-labels"] = True
    if "-annotations" in kinds:
        out["set-meta-annotations"] = True
    return out


def _cache(lines: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    entries = [v for _, _, a, v in lines if a in ("cache-from", "cache-to")]
    if not entries:
        return {}
    if any("type=gha" not in e for e in entries):
        raise Decline("the bake step uses a cache other than GitHub Actions' (`type=gha`), which github-builder does "
                      "not take")
    cache_to = " ".join(v for _, _, a, v in lines if a == "cache-to")
    out: dict[str, Any] = {"cache": True}
    if "mode=max" in cache_to:
        out["cache-mode"] = "max"
    scope = re.search(r"scope=([^,\s]+)", cache_to or entries[0])
    if scope:
        out["cache-scope"] = scope.group(1)
    return out


def _vars(workflow: Workflow, build: Build, variables: set[str]) -> str | None:
    """`vars` lines for the bake variables the job's environment sets (innermost scope wins)."""
    found: dict[str, str] = {}
    for scope in (workflow.root.get("env"), build.job.get("env"), build.step.node.get("env")):
        if isinstance(scope, dict):
            for key, value in scope.items():
                if str(key) in variables:
                    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                    found[str(key)] = call_value(text, f"the bake variable `{key}`", workflow, build.job_id,
                                                 build.step)
        elif scope is not None:
            raise Decline("the job's environment is computed at run time (`env: ${{ ... }}`), so the bake "
                          "variables it sets are not known")
    bad = [k for k, v in found.items() if "\n" in v]
    if bad:
        raise Decline(f"the bake variable `{bad[0]}` spans several lines, which `vars` cannot hold")
    return "".join(f"{k}={v}\n" for k, v in found.items()) or None


def bake_inputs(s: Situation, workflow: Workflow, build: Build, meta: StepRef | None,
                push: Any) -> tuple[dict[str, Any], set[str], list[str]]:
    """bake.yml's `with:`, the step's inputs it keeps by name, and the platforms it builds."""
    inputs = build.step.with_ or {}
    for key in inputs:
        if key not in MAPPED:
            raise Decline(f"the bake step sets `{key}`, which github-builder's bake.yml has no input for")
    try:
        view = read_step(workflow, build, s.bake_files, s.repo_files)
        lines = set_lines(build)
        base = base_dir(build)
    except BakeError as exc:
        raise Decline(f"the bake definition cannot be read before the run: {exc}") from None
    if len(view.targets) > 1:
        raise Decline(f"the bake step builds {len(view.targets)} targets ({', '.join(t.name for t in view.targets)}); "
                      "github-builder's bake.yml builds one")
    target = view.targets[0]
    platforms = target.platforms or []
    if len(platforms) < 2:
        raise Decline("the build has a single platform" if platforms else "the bake target sets no platforms")
    if base and target.dockerfile and not target.dockerfile.startswith(base + "/"):
        raise Decline(f"bake target `{target.name}` builds `{target.dockerfile}`, outside `{base}`, the Git context "
                      "subdirectory github-builder would read the bake files from")
    for _, name, attr, _ in lines:
        if attr in SET_LIMITS:
            raise Decline(f"the bake step's `set:` gives {SET_LIMITS[attr]} (`{name}.{attr}`), which github-builder's "
                          "bake.yml does not take")
    for attr in sorted(target.attributes & set(TARGET_LIMITS)):
        raise Decline(f"bake target `{target.name}` sets {TARGET_LIMITS[attr]} (`{attr}`), which github-builder's "
                      "bake.yml does not take")

    with_: dict[str, Any] = {"output": "image"}
    if base:
        with_["context"] = base
    files = _files(build, view.files, base)
    if files:
        with_["files"] = files
    if target.name != "default":
        with_["target"] = target.name
    kept = [line for line, _, attr, _ in lines if attr not in ("tags", "cache-from", "cache-to")]
    if kept:
        with_["set"] = call_value("\n".join(kept) + "\n", "the bake step's `set`", workflow, build.job_id, build.step)
    if "{{" in EXPRESSION.sub("", with_.get("set", "")):
        raise Decline("the bake step's `set:` holds `{{`, which github-builder renders as a Handlebars template")
    variables = _vars(workflow, build, set(_bake_variables(s, view.files)))
    if variables:
        with_["vars"] = variables
    if push is not False:
        with_["push"] = True if push is True else call_value(push, "the bake step's `push`", workflow, build.job_id,
                                                              build.step)
    if (build.step.input("sbom") or "").strip().lower() == "true":
        with_["sbom"] = True
    with_.update(_cache(lines))
    with_.update(_tags(workflow, build, meta, view.meta_steps, lines, target))
    for key in [k for k in with_ if k.startswith("meta-")]:
        with_[key] = call_value(with_[key], f"the metadata's `{key.removeprefix('meta-')}`", workflow, build.job_id,
                                meta)
    same = {k for k in ("files", "set", "push", "sbom") if k in with_ and k in inputs}
    return with_, same, platforms


def _tags(workflow: Workflow, build: Build, meta: StepRef | None, metas: list[str], lines: list,
          target: BakeTarget) -> dict[str, Any]:
    literal = [t.strip() for _, name, attr, value in lines if attr == "tags" and name in ("*", target.name)
               for t in value.split(",") if t.strip()]
    meta_target = str((meta.with_ or {}).get("bake-target") or META_TARGET) if meta else META_TARGET
    if metas and not literal and meta_target in target.inherits:
        return _meta(build, meta, metas, target.inherits, meta_target)
    if not literal:
        if target.tags_unknown:
            raise Decline(f"the tags of bake target `{target.name}` are not known before the run: {target.tags_unknown}")
        literal = target.tags or []
    if not literal:
        why = f" (it does not inherit `{meta_target}`, the metadata step's)" if metas else ""
        raise Decline(f"bake target `{target.name}` has no tags{why}, and github-builder needs the image names "
                      "(`meta-images`)")
    bad = {c for t in literal for c in contexts_in(t)} - CALL_CONTEXTS - {"env"}
    if bad:
        raise Decline(f"the tags are computed by the job at run time (`{', '.join(literal)}`)")
    return literal_tags(literal)


def _bake_variables(s: Situation, files: list[str]) -> list[str]:
    names: list[str] = []
    for path in files:
        names += list(parse(path, s.bake_files[path]).variables)
    return names
