"""The build steps of one job that a per-platform restructure splits together.

A job may build several images (a default and an alpine variant, one image per registry, a
`:dev` and a release build under different conditions). Each leg then runs every build step
for its own platform; each pushing build exports its digest to an artifact of its own, and
the merge job creates each image from exactly its digests, with its own tags, under its own
condition. What cannot be split safely is declined, naming the step: a build of one platform
(it would run in every leg), a build that loads its image or writes its own outputs, a
platform list that differs from the others', and a build that uses an image an earlier step
pushes (a variant built FROM its base: in the legs the base's tags do not exist until the
merge job creates them).
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from ..workflows.model import Build, StepRef, Workflow
from ..workflows.yamldoc import plain
from .base import Decline

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
# Inputs through which a build can use another image (its base, a build context); the tags,
# labels and caches name the build's own image and are not a use of another one.
_USING_INPUTS = ("build-args", "build-contexts", "context", "file", "secrets")


@dataclass
class Tags:
    names: list[str]  # image names the legs push their digests to
    literal: list[str]  # the tags, when written out in the workflow
    meta: StepRef | None  # the metadata-action step, when the tags come from it
    # Steps before the build that compute the tags (or the metadata step's inputs): every leg runs
    # them to the same result, and the merge job repeats them under the same ids.
    computing: list[StepRef] = field(default_factory=list)
    # Annotations of the build's own exporter for the merged index (`index:key=value`).
    annotations: list[str] = field(default_factory=list)
    # Tags computed at run time (runtime_tags): the tag list the merge job splits when it runs,
    # the tags the legs derive their push-by-digest names from when the names are computed too,
    # the build job's outputs that pass the values on, and what the PR says about it.
    runtime: str | None = None
    names_from: str | None = None
    job_outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""
    # The merge job's scripts when a shell build's tags read shell variables (shell_tags).
    script: Any = None


@dataclass
class Image:
    """One pushing build step of the job, as the legs and the merge job handle it."""

    build_id: str  # the step's id: in the merge job, the step that creates the image
    tags: Tags
    condition: str | None  # when it pushes: the step's `if:` and its `push:` expression
    key: str | None = None  # its part of the artifact names; None when the job builds one image
    label: str = ""  # the build step's name, for step names and explanations
    names_id: str | None = None  # the leg's step that derives the names from run-time tags (runtime_tags)
    # The condition as the merge job reads it, where it cannot read the build's (merge_condition).
    merge_condition: str | None = None




def label(step: StepRef) -> str:
    return str(step.node.get("name") or step.node.get("id") or step.uses or f"step {step.index + 1}")


def step_condition(step: StepRef) -> str | None:
    """The step's `if:` as one expression (without `${{ }}`), None when it has none."""
    raw = step.node.get("if")
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    text = str(raw).strip()
    m = _EXPR.fullmatch(text)
    if m:
        return m.group(1)
    if "${{" in text:
        raise Decline(f"the `if:` of step `{label(step)}` is not one expression (`{text}`), so the merge job "
                      "cannot repeat it")
    return text


def both(*conditions: str | None) -> str | None:
    """All of ``conditions`` (None: always)."""
    present = [c for c in conditions if c]
    if len(present) <= 1:
        return present[0] if present else None
    return " && ".join(f"({c})" for c in present)


def either(conditions: list[str | None]) -> str | None:
    """Any of ``conditions``; None (always) when one of them is always."""
    if not conditions or any(c is None for c in conditions):
        return None
    unique = list(dict.fromkeys(conditions))
    return unique[0] if len(unique) == 1 else " || ".join(f"({c})" for c in unique)


def check_condition(image_condition: str | None, step: StepRef) -> None:
    """A condition the merge job must evaluate the same way as the leg."""
    if not image_condition:
        return
    if "matrix." in image_condition:
        raise Decline(f"the condition of step `{label(step)}` (`{image_condition}`) reads the matrix, which the "
                      "merge job does not have")
    if re.search(r"\b(always|failure|cancelled)\s*\(", image_condition):
        # In the merge job's `if:` it would run it after a failed leg, from part of the digests.
        raise Decline(f"step `{label(step)}` runs on `{image_condition}`, a job status the merge job does not "
                      "share")


def others_in_job(workflow: Workflow, build: Build) -> tuple[list[Build], list[Build]]:
    """The job's other build steps, each checked to be split the same way as ``build``: those of
    several platforms (their own list: each runs in the legs of its platforms, leg_steps), and
    those of one platform that push nothing (each runs in the one leg of its platform)."""
    others = [b for b in workflow.builds if b.job_id == build.job_id and b is not build]
    several, single = [], []
    for other in others:
        name = label(other.step)
        if other.kind != "build-push-action":
            raise Decline(f"job `{build.job_id}` also builds with step `{name}` ({other.kind}); only several "
                          "docker/build-push-action steps are split per platform together")
        if other.platforms is None and other.step.input("platforms") is not None:
            raise Decline(f"the platforms of step `{name}` are not known from the workflow: {other.platforms_note}")
        if not other.platforms or len(other.platforms) < 2:
            if other.push is not None and other.push.strip().lower() != "false":
                raise Decline(f"step `{name}` pushes a single platform; in a job split per platform it would push "
                              "from one leg before the merge job, which is not done automatically")
            single.append(other)
            continue
        if other.load:
            raise Decline(f"step `{name}` loads its image into the job (`load: true`); a per-platform leg cannot "
                          "hand the multi-platform image to the job's later steps")
        outputs = other.step.input("outputs") or ""
        if outputs and "push-by-digest" not in outputs:
            raise Decline(f"step `{name}` sets its own `outputs`, which a per-platform build would replace")
        several.append(other)
    return several, single


def _mentions(text: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        for spelling in {name, name.removeprefix("docker.io/")}:
            if spelling and re.search(rf"(?<![\w./-]){re.escape(spelling)}(?=[:@\s\"',]|$)", text, re.MULTILINE):
                return name
    return None


def check_independent(builds: list[Build], names_of: dict[int, tuple[str, ...]], metas: dict[int, str | None],
                      dockerfiles: dict[str, str]) -> None:
    """No build uses an image an earlier build of the job pushes: in the legs that image exists
    only by digest until the merge job tags it, so a variant built FROM its base would get the
    previous release of the base (or none). ``names_of`` and ``metas``: by step index, the image
    names each pushing build pushes and the id of its metadata step."""
    for later in builds:
        used = {k: v for k, v in (plain(later.step.node.get("with")) or {}).items() if k in _USING_INPUTS}
        text = str(used) + " " + str(plain(later.step.node.get("env") or {}))
        dockerfile = dockerfiles.get(later.dockerfile or "")
        for earlier in builds:
            index = earlier.step.index
            if index >= later.step.index or index not in names_of:
                continue
            meta = metas.get(index)
            reads = [f"steps.{earlier.step.node.get('id')}.outputs"] if earlier.step.node.get("id") else []
            reads += [f"steps.{meta}.outputs"] if meta else []
            found = _mentions(text, names_of[index]) or next((r for r in reads if r in text), None)
            if found is None and dockerfile is not None:
                body = "\n".join(line for line in dockerfile.splitlines() if not line.lstrip().startswith("#"))
                found = _mentions(body, names_of[index])
            if found is not None:
                raise Decline(f"step `{label(later.step)}` uses `{found}`, which step `{label(earlier.step)}` pushes "
                              "before it; in a per-platform leg that image exists only by digest until the merge "
                              "job tags it, so splitting the job is not done automatically")
        if dockerfile is None and any(i in names_of for i in (b.step.index for b in builds)
                                      if i < later.step.index):
            raise Decline(f"the Dockerfile of step `{label(later.step)}` (`{later.dockerfile}`) was not found, so "
                          "whether it builds on an image an earlier step pushes cannot be checked")


_REPOSITORY = re.compile(r"(?<![\w./$-])((?:[\w.-]+|\$\{\{[^}]*\}\})(?:/(?:[\w.-]+|\$\{\{[^}]*\}\}))+)(?=:)")


def script_names(steps: list[StepRef]) -> tuple[str, ...]:
    """Repositories a tag-computing script writes out (`acme/app:$VERSION`): what a later build
    would name to use its image, for ``check_independent``."""
    return tuple(dict.fromkeys(m.group(1) for st in steps for m in _REPOSITORY.finditer(str(st.node.get("run") or ""))))


def artifact_keys(build_ids: list[str], job_id: str, pairs: list[str], other: dict[str, list]) -> list[str]:
    """Each image's part of the artifact names (`digests-<job>-<key>-<leg>`): its step id,
    unless a download pattern would then also pick another image's digests (`build` and
    `build-alpine`), then its number. Checked on every concrete name the legs upload."""
    sep = other_separator(other)
    values = [sep.join(map(str, combo)) for combo in itertools.product(*other.values())] if other else []
    for keys in (build_ids, [f"image-{n}" for n in range(1, len(build_ids) + 1)]):
        if _patterns_exact(keys, job_id, pairs, values, sep):
            return keys
    raise Decline("the images' digest artifacts cannot be told apart by a download pattern")


def artifact_prefix(job_id: str, key: str | None, suffix: str) -> str:
    return f"digests-{job_id}-" + (f"{key}-" if key else "") + suffix


# What a matrix value may hold to be part of an artifact name and of a download pattern: no
# character upload-artifact refuses (`"` `:` `<` `>` `|` `*` `?` `\` `/`) and no glob syntax.
_NAME_SAFE = re.compile(r"[\w.+=@~ -]+")
_SEPARATORS = ("-", "_", ".", "+", "~")


def other_separator(other: dict[str, list]) -> str:
    """What follows each value of the other dimensions in the digest artifacts' names
    (`digests-<job>-<value><sep><leg>`), so that one value's download pattern
    (`...-<value><sep>*`) never picks another's digests: `api-*` would also pick `api-v2-...`.
    `-` where no combination of values, so followed, starts another; else the first separator
    no value holds (after which the first one ends each value where it is)."""
    values = [str(v) for vs in other.values() for v in vs]
    unsafe = next((v for v in values if not _NAME_SAFE.fullmatch(v)), None)
    if unsafe is not None:
        raise Decline(f"the matrix value `{unsafe}` cannot be part of the digest artifacts' names (upload-artifact "
                      "refuses some characters, and a download pattern reads others as a glob)")
    combos = [tuple(map(str, c)) for c in itertools.product(*other.values())]
    for sep in _SEPARATORS:
        prefixes = {sep.join(c) + sep for c in combos}
        clear = all(not b.startswith(a) for a in prefixes for b in prefixes if a != b)
        if sep == "-" and clear or sep != "-" and not any(sep in v for v in values):
            return sep
    raise Decline("the values of the job's matrix cannot be told apart in the digest artifacts' names")


def other_suffix(other: dict[str, list]) -> str:
    """The part of a digest artifact's name (and of its download pattern) that the other
    dimensions' values make: `${{ matrix.x }}<sep>` for each."""
    if not other:
        return ""
    sep = other_separator(other)
    return "".join(f"${{{{ matrix.{k} }}}}{sep}" for k in other)


def _patterns_exact(keys: list[str], job_id: str, pairs: list[str], other_values: list[str], sep: str = "-") -> bool:
    names = {key: [artifact_prefix(job_id, key, f"{o}{sep}" if o else "") + pair for o in other_values or [""]
                   for pair in pairs] for key in keys}
    for key in keys:
        for o in other_values or [""]:
            pattern = artifact_prefix(job_id, key, f"{o}{sep}" if o else "") + "*"
            picked = {n for k in keys for n in names[k] if fnmatch.fnmatchcase(n, pattern)}
            if picked != {artifact_prefix(job_id, key, f"{o}{sep}" if o else "") + pair for pair in pairs}:
                return False
    return True
