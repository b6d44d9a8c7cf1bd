"""A push condition that reads a step's output (`push: ${{ steps.decide.outputs.push }}`,
`if: steps.tags.outputs.label != ''`): the legs evaluate it as written, but the merge job's
`if:` is a job's, which has no `steps` context. The build job passes each value on as a job
output and the merge job's condition reads `needs.<job>.outputs.<name>` instead (as
runtime_tags passes computed tags on). A matrix job's output is the value of whichever leg
finished last, so a step that reads the matrix or the runner is declined: the legs could
decide differently.
"""

from __future__ import annotations

import re

from ..workflows.model import Build, Workflow
from .base import Decline
from .images import Tags

_STEPS = re.compile(r"(?<![\w.-])steps\.")


def as_condition(push: str | None) -> str | None:
    """A `push:` expression as an `if:` condition. A value read as it is (`steps.x.outputs.push`,
    `env.PUSH`, `inputs.push`) is a string where it comes from a step, a variable or a job, and the
    string `false` is true in an `if:`; the action reads it as a boolean, so the condition compares
    its text (`format` writes a boolean as `true`/`false`, and comparisons ignore case, as the
    action does)."""
    if push is None or not re.fullmatch(r"[A-Za-z_][\w-]*(?:\.[\w-]+)+", push.strip()):
        return push
    return f"format('{{0}}', {push.strip()}) == 'true'"


def reads_steps(condition: str | None) -> bool:
    return bool(condition) and bool(_STEPS.search(condition))


def merge_condition(workflow: Workflow, build: Build, condition: str, tags: Tags) -> str:
    """The condition as the merge job evaluates it; the job outputs it reads are added to
    ``tags.job_outputs`` (the build job gets them with the tags' own)."""
    from .restructure import _computing_steps  # imported here: restructure imports this module's callers
    from .runtime_tags import job_outputs, run_env
    taken = {str(k) for k in workflow.jobs[build.job_id].get("outputs") or {}}
    steps = _computing_steps(workflow, build, condition)
    try:
        text, outputs = job_outputs(build.job_id, condition, taken, steps, run_env(workflow, build))
    except Decline as exc:
        raise Decline(f"the push condition `{condition}` reads a step's output, which only a job output would pass "
                      f"on to the merge job's `if:`; but {exc}") from None
    clash = [name for name in outputs if tags.job_outputs.get(name, outputs[name]) != outputs[name]]
    if clash:
        raise Decline(f"job output `{clash[0]}` would pass on two values")
    tags.job_outputs.update(outputs)
    note = (f"Every leg decides whether to push (`{condition}`), and job `{build.job_id}` passes the values on as "
            "job outputs for the merge job's `if:`; with a matrix, a job output is the value of whichever leg "
            "finished last: right here only because every leg decides the same way.")
    tags.note = f"{tags.note} {note}" if tags.note else note
    return text
