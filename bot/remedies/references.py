"""What a per-platform restructure moves and what must still resolve: steps that read the
pushed digest (or a moved step's outputs) move to the merge job; every `steps.<id>` they read
must be there too; keys an existing matrix gives its legs are kept and never clash with ours."""

from __future__ import annotations

import re
from typing import Any

from ..workflows.model import SETUP_BUILDX, StepRef, split_platforms
from ..workflows.yamldoc import plain
from .base import Decline

LOGIN = "docker/login-action"


def refers(node: Any, text: str) -> bool:
    return text in str(plain(node))


_STEP_REF = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.")


def _metas(meta: StepRef | list | None) -> list[StepRef]:
    return [m for m in (meta if isinstance(meta, list) else [meta]) if m is not None]


def copied_ids(steps: list[StepRef], meta: StepRef | list | None, also: tuple = ()) -> set[str]:
    """Ids of the steps the merge job copies (logins, Buildx, the metadata steps, and ``also``:
    the steps that compute the tags)."""
    copied = [st for st in steps if st.action in (LOGIN, SETUP_BUILDX)] + _metas(meta) + list(also)
    return {str(st.node["id"]) for st in copied if st.node.get("id")}


def resolvable(node: Any, what: str, ids: set[str], existing: set[str] | None = None) -> None:
    """Every `steps.<id>` ``node`` reads is in ``ids`` (the merge job's steps). A step id that is
    not in the job at all (``existing``) reads as empty in either job, as it did before."""
    missing = set(_STEP_REF.findall(str(plain(node)))) - ids
    missing = sorted(missing & existing if existing is not None else missing)
    if missing:
        raise Decline(f"{what} would move to the merge job but read{'s' if what.startswith('step') else ''} "
                      + ", ".join(f"`steps.{m}`" for m in missing)
                      + f", which stay{'s' if len(missing) == 1 else ''} in the build job")


_ENV_REF = re.compile(r"\$\{\{\s*env\.([A-Za-z_][\w-]*)\s*\}\}")


def image_names(workflow_env: Any, job_env: Any, names: list[str]) -> tuple[str, ...]:
    """The pushed image names as written and, where they read the workflow's or the job's `env:`,
    as they resolve (a later step may write `ghcr.io/o/r:tag` for `${{ env.IMAGE }}`)."""
    env = {str(k): str(v) for scope in (workflow_env, job_env) if isinstance(scope, dict)
           for k, v in plain(scope).items()}
    resolved = [_ENV_REF.sub(lambda m: env.get(m.group(1), m.group(0)), n) for n in names]
    return tuple(dict.fromkeys(list(names) + [n for n in resolved if "${{" not in n]))


def uses_tags(step: StepRef, meta: StepRef | list | None, names: tuple = ()) -> bool:
    """Whether ``step`` uses the pushed image by its tags: it reads a metadata step's tags,
    version or json, or writes out one of the pushed image names with a tag or a digest. The legs
    push by digest only, so the tags exist only once the merge job has created them."""
    text = str(plain(step.node))
    if any(m.node.get("id") and re.search(rf"\bsteps\.{re.escape(str(m.node['id']))}\.outputs\.(tags|version|json)\b",
                                          text) for m in _metas(meta)):
        return True
    return any(re.search(rf"(?<![\w./-]){re.escape(n)}[:@]", text) for n in names if n)


_WORKSPACE = re.compile(r"(^|[\s'\"=(])\.{1,2}/|\bgithub\.workspace\b|\bGITHUB_WORKSPACE\b")


def reads_workspace(step: StepRef) -> bool:
    """Whether ``step`` may read the repository's files (a local action, a working directory,
    a relative path): the merge job then checks the repository out too."""
    uses = step.uses or ""
    return uses.startswith("./") or "working-directory" in step.node or bool(
        _WORKSPACE.search(str(plain({k: v for k, v in step.node.items() if k in ("run", "with")}))))


# Actions that install a command a moved step may run: the merge job installs it too.
INSTALLERS = {"sigstore/cosign-installer": "cosign", "aquasecurity/setup-trivy": "trivy",
              "anchore/sbom-action/download-syft": "syft", "docker/scout-action": "scout"}


def installers(steps: list[StepRef], b: int, moved: list[StepRef]) -> list[StepRef]:
    """Steps before the build that install a command a moved step runs."""
    text = " ".join(str(plain(st.node.get("run", ""))) for st in moved)
    return [st for st in steps[:b] if st.action in INSTALLERS
            and re.search(rf"\b{INSTALLERS[st.action]}\b", text)]


_BUILD_OUTPUT = r"\bsteps\.{}\.outputs\.([\w-]+)"


def moved_steps(steps: list[StepRef], b: int, build_id: str | tuple, meta: StepRef | list | None,
                also: tuple = (), names: tuple = (), matrix_keys: tuple = (), builds: tuple = ()) -> list[StepRef]:
    """Steps after the build that use the pushed digest or the pushed tags (``names``: the image
    names) move to the merge job, and so do the steps that read theirs (a reference to a step in
    another job would not resolve). In the merge job the build's id names the step that creates
    the image, whose only output is the digest; the job's matrix has only ``matrix_keys``. A job
    with several builds passes their ids (``build_id``), metadata steps (``meta``) and step
    indices (``builds``: build steps stay in the legs)."""
    build_ids = (build_id,) if isinstance(build_id, str) else tuple(build_id)
    moved, ids = [], set(build_ids)
    # A moved step that edits files of another repository checked out beside the workspace (a
    # checkout with `repository` and `path`) is followed by the steps that work there (commit and
    # push the edit): they move with it, or the legs would commit nothing.
    dirs: set[str] = set()
    others = {_norm(str(plain(st.node.get("with") or {}).get("path", ""))) for st in steps
              if (st.action or "") == "actions/checkout" and isinstance(st.node.get("with"), dict)
              and st.node["with"].get("repository") and st.node["with"].get("path")}
    for st in steps[b + 1:]:
        if st.index in builds:
            continue
        workdir = _norm(str(st.node.get("working-directory") or ""))
        if any(refers(st.node, f"steps.{i}.") for i in ids) or uses_tags(st, meta, names) or workdir in dirs:
            moved.append(st)
            if st.node.get("id"):
                ids.add(str(st.node["id"]))
            if workdir in others:
                dirs.add(workdir)
    available = ids | copied_ids(steps, meta, also)
    existing = {str(st.node["id"]) for st in steps if st.node.get("id")}
    for st in moved:
        what = f"step `{st.node.get('name') or st.uses or 'run'}`"
        resolvable(st.node, what, available, existing)
        text = str(plain(st.node))
        other = sorted({o for i in build_ids for o in re.findall(_BUILD_OUTPUT.format(re.escape(i)), text)} - {"digest"})
        if other:
            raise Decline(f"{what} uses the pushed image and reads the build's `{other[0]}` output, which only "
                          "the per-platform legs have; it cannot move to the merge job")
        matrix = sorted(set(re.findall(r"\bmatrix\.([\w-]+)", text)) - set(matrix_keys))
        if matrix:
            raise Decline(f"{what} uses the pushed image and reads `matrix.{matrix[0]}`, which the merge job "
                          "does not have")
    return moved


def _norm(path: str) -> str:
    return path.strip().removeprefix("./").rstrip("/")


OWN_MATRIX_KEYS = ("pair", "runner", "qemu")


def kept_matrix_keys(matrix: Any, mode: str, key: str = "platform") -> dict[str, dict]:
    """Keys the existing matrix gives each platform (`include` entries that set ``key``, the key
    the build's platforms come from), kept on the new legs: the job's steps may read them. An
    entry that lists several platforms gives its keys to each. One of ours already there would
    mean something else."""
    kept: dict[str, dict] = {}
    for entry in (plain(matrix).get("include") or []) if isinstance(matrix, dict) else []:
        if not isinstance(entry, dict) or key not in entry:
            continue
        extra = {k: v for k, v in entry.items() if k != "platform"}
        clash = [k for k in extra if k in OWN_MATRIX_KEYS and (k != "runner" or mode == "platform-matrix")]
        if clash:
            raise Decline(f"the matrix already has a `{clash[0]}` key, which the per-platform legs would use "
                          "for something else")
        extra.pop("runner", None)  # replaced by the leg's own runner
        for platform in split_platforms(str(entry[key])):
            kept[platform] = extra
    return kept
