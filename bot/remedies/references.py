"""What a per-platform restructure moves and what must still resolve: steps that read the
pushed digest (or a moved step's outputs) move to the merge job; every `steps.<id>` they read
must be there too; keys an existing matrix gives its legs are kept and never clash with ours."""

from __future__ import annotations

import re
from typing import Any

from ..workflows.model import SETUP_BUILDX, StepRef
from ..workflows.yamldoc import plain
from .base import Decline

LOGIN = "docker/login-action"


def refers(node: Any, text: str) -> bool:
    return text in str(plain(node))


_STEP_REF = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.")


def copied_ids(steps: list[StepRef], meta: StepRef | None, also: tuple = ()) -> set[str]:
    """Ids of the steps the merge job copies (logins, Buildx, the metadata step, and ``also``:
    the steps that compute the tags)."""
    copied = [st for st in steps if st.action in (LOGIN, SETUP_BUILDX)] + ([meta] if meta else []) + list(also)
    return {str(st.node["id"]) for st in copied if st.node.get("id")}


def resolvable(node: Any, what: str, ids: set[str]) -> None:
    missing = sorted(set(_STEP_REF.findall(str(plain(node)))) - ids)
    if missing:
        raise Decline(f"{what} would move to the merge job but read{'s' if what.startswith('step') else ''} "
                      + ", ".join(f"`steps.{m}`" for m in missing)
                      + f", which stay{'s' if len(missing) == 1 else ''} in the build job")


def moved_steps(steps: list[StepRef], b: int, build_id: str, meta: StepRef | None,
                also: tuple = ()) -> list[StepRef]:
    """Steps after the build that use the pushed digest move to the merge job, and so do the
    steps that read theirs (a reference to a step in another job would not resolve)."""
    moved, ids = [], {build_id}
    for st in steps[b + 1:]:
        if any(refers(st.node, f"steps.{i}.") for i in ids):
            moved.append(st)
            if st.node.get("id"):
                ids.add(str(st.node["id"]))
    available = ids | copied_ids(steps, meta, also)
    for st in moved:
        resolvable(st.node, f"step `{st.node.get('name') or st.uses or 'run'}`", available)
    return moved


OWN_MATRIX_KEYS = ("pair", "runner", "qemu")


def kept_matrix_keys(matrix: Any, mode: str) -> dict[str, dict]:
    """Keys the existing per-platform matrix gives each platform (`include` entries), kept on the
    new legs: the job's steps may read them. One of ours already there would mean something else."""
    kept: dict[str, dict] = {}
    for entry in (plain(matrix).get("include") or []) if isinstance(matrix, dict) else []:
        if not isinstance(entry, dict) or "platform" not in entry:
            continue
        extra = {k: v for k, v in entry.items() if k != "platform"}
        clash = [k for k in extra if k in OWN_MATRIX_KEYS and (k != "runner" or mode == "platform-matrix")]
        if clash:
            raise Decline(f"the matrix already has a `{clash[0]}` key, which the per-platform legs would use "
                          "for something else")
        extra.pop("runner", None)  # replaced by the leg's own runner
        kept[str(entry["platform"])] = extra
    return kept
