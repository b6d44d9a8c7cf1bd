"""Comments of a job that a remedy replaces whole (``github-builder``): those above the job stay
where they are; those on the job's key line, on or just above the keys the new job keeps, just
above the build step (the call is the build now: above its ``uses:``) and on or above the build
inputs the call keeps under the same name go with them; any other comment describes something
the new job no longer has, and the remedy declines rather than lose it (the ladder goes on to
remedies that keep the steps)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..workflows.yamldoc import Doc, comment_of
from .base import Decline

# A version comment on a pinned `uses:` line is part of the pin: it goes with the step it pins.
_PIN = re.compile(r"\s*(?:-\s+)?uses:\s*\S+@\S+\s+#\s*(?:tag=)?v?\d+(?:\.\d+)*\S*\s*$")
Place = tuple[int, str]  # (depth in the new job: 1 its keys, 2 the keys of its `with:`; key)


@dataclass
class Carried:
    header: str | None = None  # on the job's own key line
    above: dict[Place, list[str]] = field(default_factory=dict)  # whole-line comments above a key
    trailing: dict[Place, str] = field(default_factory=dict)  # on a key's line

    def place(self, lines: list[str], col: int, unit: int) -> list[str]:
        """The new job's lines with the carried comments put back next to what they describe."""
        out, parent = [], ""
        for i, line in enumerate(lines):
            if i == 0 and self.header:
                line += f" {self.header}"
            m = re.match(r"( *)([A-Za-z0-9_-]+):", line)
            if m:
                depth = (len(m.group(1)) - col) // unit
                if depth == 1:
                    parent = m.group(2)
                where = (depth, m.group(2) if depth == 1 or parent == "with" else f"{parent}.{m.group(2)}")
                if (depth == 1 or depth == 2 and parent in ("with", "permissions")) \
                        and len(m.group(1)) == col + depth * unit:
                    out += [m.group(1) + c for c in self.above.get(where, [])]
                    if where in self.trailing:
                        line += f" {self.trailing[where]}"
            out.append(line)
        return out


def _comments_between(lines: list[str], after: int, before: int) -> list[str]:
    return [lines[j].strip() for j in range(after + 1, before) if lines[j].strip().startswith("#")]


def carried_comments(doc: Doc, job_id: str, job: Any, kept: set[str], build_index: int, inputs: set[str],
                     why: str, permissions: set[str] = frozenset()) -> Carried:
    """What the comments inside job ``job_id`` become when it is replaced by a job keeping only the
    keys ``kept``, of its block ``permissions:`` the scopes ``permissions`` (Docker's own callers
    comment each scope: ``packages: write # required to push to GHCR``) and, of the build step
    ``build_index``, the inputs ``inputs``; a decline (``why`` says what replaces the job) when one
    would be lost."""
    lines = doc.lines
    first, last = doc.start(("jobs", job_id))[0], doc.end_line(("jobs", job_id))
    carried = Carried(header=comment_of(lines[first]))
    owned = {first}

    def keep(path: tuple, owner: Any, where: Place, since: int) -> None:
        key_line = owner.lc.key(path[-1])[0]
        above = _comments_between(lines, since, key_line)
        if above:
            carried.above.setdefault(where, []).extend(above)
        owned.update(range(since + 1, key_line + 1))
        if comment_of(lines[key_line]):
            carried.trailing[where] = comment_of(lines[key_line])

    keys = list(job.keys())
    for i, key in enumerate(keys):
        if key in kept:
            keep(("jobs", job_id, key), job, (1, key),
                 first if i == 0 else doc.end_line(("jobs", job_id, keys[i - 1])))
    scopes = job.get("permissions") if "permissions" in kept else None
    if hasattr(scopes, "lc") and hasattr(scopes, "keys") and not scopes.fa.flow_style():
        names = list(scopes.keys())
        for i, name in enumerate(names):
            if name in permissions:
                keep(("jobs", job_id, "permissions", name), scopes, (2, f"permissions.{name}"),
                     job.lc.key("permissions")[0] if i == 0 else doc.end_line(("jobs", job_id, "permissions",
                                                                                  names[i - 1])))
    step_path = ("jobs", job_id, "steps", build_index)
    dash = doc.start(step_path)[0]
    since = doc.end_line(step_path[:-1] + (build_index - 1,)) if build_index else job.lc.key("steps")[0]
    above = _comments_between(lines, since, dash)
    owned.update(range(since + 1, dash))
    if comment_of(lines[dash]) and dash != doc.value_start(step_path)[0]:
        above.append(comment_of(lines[dash]))  # the dash alone on its line: its comment is the step's
        owned.add(dash)
    if above:
        carried.above.setdefault((1, "uses"), []).extend(above)
    step = job["steps"][build_index]
    with_ = step.get("with") if hasattr(step, "get") else None
    if with_ is not None and hasattr(with_, "lc") and not with_.fa.flow_style():
        names = list(with_.keys())
        for i, name in enumerate(names):
            if name in inputs:
                keep(step_path + ("with", name), with_, (2, name),
                     step.lc.key("with")[0] if i == 0 else doc.end_line(step_path + ("with", names[i - 1])))
    lost = [c for j in range(first, last + 1)
            if j not in owned and (c := comment_of(lines[j])) and not _PIN.match(lines[j])]
    if lost:
        raise Decline(f"job `{job_id}` has comments on what {why} ({', '.join(f'`{c}`' for c in lost[:2])}"
                      + (f" and {len(lost) - 2} more" if len(lost) > 2 else "")
                      + "), which would be lost; a remedy that keeps the steps keeps them")
    return carried
