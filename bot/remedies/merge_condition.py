"""When the merge job of a per-platform restructure runs: exactly when the legs pushed.

A build pushes under its step's `if:` and its `push:` expression, which the legs evaluate in
the build job's contexts. The merge job cannot always evaluate them again: a job's `if:` sees
only `github`, `needs`, `vars` and `inputs` (GitHub's "context availability" table), a step's
`if:` no `secrets`, and the steps that computed a `steps.<id>` value ran in the build job (the
merge job's downloads come before anything it repeats). A condition that reads more (a job's
`env`, a step's output, a secret, a value a step wrote to `$GITHUB_ENV`) is therefore evaluated by the legs themselves: the build job
passes the result on as a job output (`pushed`, or `pushed-<step id>` per image in a job of
several), and the merge job and its steps read `needs.<job>.outputs.pushed == 'true'`. Every leg
evaluates the same expression to the same value (one that reads the leg's matrix or runner is
declined), so whichever leg's output GitHub keeps is right. A job output holds a string: the
result is `true` or `false`, never the secret a condition may test.

The merge job also needs the jobs the build job needs whose outputs it reads (the tags may read
`needs.<job>.outputs`). A build job whose own `if:` runs it after such a job failed or was
skipped (`always()`, `!cancelled()`, `failure()`) would leave a merge job that, needing that job
too, is skipped: its `if:` then says to run whenever the build succeeded.
"""

from __future__ import annotations

import re
from typing import Any

from ..workflows import edit as wedit
from ..workflows.model import StepRef, Workflow
from ..workflows.yamldoc import Doc, comment_of, plain
from .base import Decline
from .images import Image

# GitHub's context availability: what a job's `if:` may read.
JOB_LEVEL = {"github", "needs", "vars", "inputs"}
# Values that differ between the legs: a job output keeps only one leg's.
PER_LEG = {"matrix", "runner", "strategy", "job"}
_STRING = re.compile(r"'(?:[^']|'')*'")
_CONTEXT = re.compile(r"(?<![\w.-])([A-Za-z_][\w-]*)\s*(?=[.\[])")
_STATUS = re.compile(r"\b(?:always|success|failure|cancelled)\s*\(")
_ENV = re.compile(r"(?<![\w.-])env\.([A-Za-z_][\w-]*)")


def contexts(expression: str) -> set[str]:
    """The contexts an expression reads (`github`, `env`, `steps`...), string literals aside."""
    return set(_CONTEXT.findall(_STRING.sub("''", expression)))


def merged(image: Image) -> str | None:
    """The image's condition as the merge job evaluates it."""
    return image.merge_condition or image.condition


class Passed:
    """The build job's outputs that carry conditions to the merge job (name -> expression)."""

    def __init__(self, workflow: Workflow, job_id: str, late_env: set[str]):
        job = workflow.jobs[job_id]
        self.job_id = job_id
        self.late_env = late_env
        self.taken = {str(k) for k in job.get("outputs") or {}} if isinstance(job.get("outputs"), dict) else set()
        self.outputs: dict[str, str] = {}

    def condition(self, condition: str, wanted: str, what: str) -> str:
        """``condition`` as the merge job reads it: the result the legs pass on (``what``: whose
        condition, for a decline)."""
        leg = sorted(contexts(condition) & PER_LEG)
        if leg:
            raise Decline(f"{what} when `{condition}`, which reads the leg's `{leg[0]}`: the merge job cannot "
                          "tell what the legs did")
        if _STATUS.search(condition):
            raise Decline(f"{what} when `{condition}`, a job status the merge job does not share")
        written = sorted(set(_ENV.findall(condition)) & self.late_env)
        if written:
            raise Decline(f"{what} when `{condition}`, and a step after the build writes `{written[0]}` to "
                          "$GITHUB_ENV: a job output, evaluated when the job ends, would see that later value")
        value = f"${{{{ {condition} }}}}"
        name = next((k for k, v in self.outputs.items() if v == value), None)  # one condition, one output
        if name is None:
            name, n = wanted, 2
            while name in self.taken:
                name, n = f"{wanted}-{n}", n + 1
            self.taken.add(name)
            self.outputs[name] = value
        return f"needs.{self.job_id}.outputs.{name} == 'true'"


def unset_env(steps: list[StepRef], copied: list[StepRef]) -> set[str]:
    """Variables steps of the build job write to `$GITHUB_ENV` that the merge job, which repeats
    only ``copied``, does not have."""
    from .runtime_tags import run_time_env  # imported here: runtime_tags builds on the merge job
    repeated = {st.index for st in copied}
    return {name for name, writers in run_time_env(steps, len(steps)).items()
            if not all(w.index in repeated for w in writers)}


def late_env(workflow: Workflow, job_id: str, first_build: int) -> set[str]:
    """Variables a step after the (first) build writes to `$GITHUB_ENV`. The runner evaluates
    job outputs when the job ends, with the `env` context the steps left (GitHub's runner,
    JobExtension.FinalizeJob: the job's env and what steps wrote to `$GITHUB_ENV`): a variable
    written before the build reads the same there, one written after it may not."""
    from .runtime_tags import run_time_env  # imported here: runtime_tags builds on the merge job
    return set(run_time_env(workflow.steps(job_id)[first_build + 1:], len(workflow.steps(job_id))))


def pass_on(workflow: Workflow, job_id: str, images: list[Image], first_build: int) -> Passed:
    """Give each image whose condition the merge job cannot evaluate its ``merge_condition``
    (the build job's output); ``first_build``: the index of the job's first build step."""
    passed = Passed(workflow, job_id, late_env(workflow, job_id, first_build))
    conditions = [image.condition for image in images if image.condition]
    if all(contexts(c) <= JOB_LEVEL for c in conditions):
        return passed
    alone = len({c for c in conditions if not contexts(c) <= JOB_LEVEL}) == 1
    for image in images:
        if image.condition and not contexts(image.condition) <= JOB_LEVEL:
            image.merge_condition = passed.condition(image.condition, "pushed" if alone else f"pushed-{image.build_id}",
                                                     f"step `{image.label or image.build_id}` pushes")
    return passed


def copied_step(doc: Doc, step: StepRef, merge_ids: set[str], passed: Passed | None,
                unset_env: set[str] = frozenset()) -> tuple[list[str], Any]:
    """A step the merge job repeats (a login, the Buildx set-up...), as text and data: as written,
    unless its `if:` reads a step the merge job does not have, or a variable (``unset_env``) only
    a step it does not repeat writes to `$GITHUB_ENV`; then it runs when the legs ran it (the
    legs pass the result on)."""
    lines, node = doc.entry_text(step.path), plain(step.node)
    raw = step.node.get("if")
    if raw is None or passed is None:
        return lines, node
    condition = str(raw).strip()
    m = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", condition, re.DOTALL)
    condition = m.group(1) if m else condition
    missing = [ref for ref in re.findall(r"\bsteps\.([A-Za-z_][\w-]*)\.", condition) if ref not in merge_ids]
    missing += sorted(set(_ENV.findall(condition)) & set(unset_env))
    if not missing:
        return lines, node
    label = step.node.get("name") or step.node.get("id") or step.uses or f"step {step.index + 1}"
    wanted = f"ran-{step.node.get('id')}" if step.node.get("id") else f"ran-step-{step.index + 1}"
    merged = passed.condition(condition, wanted, f"step `{label}` runs")
    first = doc.first_line(step.path)
    line, col = doc.start(step.path + ("if",))
    text = lines[line - first]
    if "\n" in str(raw).strip() or str(raw).strip() not in text:
        raise Decline(f"the `if:` of step `{label}` spans several lines; the merge job cannot rewrite it")
    comment = comment_of(text)
    lines[line - first] = text[:col] + f"if: ${{{{ {merged} }}}}" + (f"  {comment}" if comment else "")
    node["if"] = f"${{{{ {merged} }}}}"
    return lines, node


def job_if(workflow: Workflow, job_id: str, upstream: list[str], condition: str | None) -> str | None:
    """The merge job's `if:` (an expression without `${{ }}`) for ``condition``, when it also
    needs the build job's ``upstream`` jobs."""
    own = workflow.jobs[job_id].get("if")
    if upstream and own is not None and _STATUS.search(str(own)) and not re.fullmatch(
            r"\s*(?:\$\{\{\s*)?success\(\)\s*(?:\}\}\s*)?", str(own)):
        # The build may run after an upstream job failed or was skipped; so must the merge.
        ran = f"!cancelled() && needs.{job_id}.result == 'success'"
        return f"{ran} && ({condition})" if condition else ran
    return condition


NOTE = ("Whether the legs pushed is an expression the merge job cannot evaluate (GitHub gives a job's `if:` "
        "only `github`, `needs`, `vars` and `inputs`): every leg evaluates it, job `{job}` passes the result on as "
        "{outputs}, and the merge job (and each image's steps in it) runs when it is `true`.")


def note(job_id: str, outputs: dict[str, str]) -> str:
    names = ", ".join(f"`{name}`" for name in outputs)
    return NOTE.format(job=job_id, outputs=("output " if len(outputs) == 1 else "outputs ") + names)


def output_edits(passed: Passed, outputs_moved: bool) -> list[wedit.Edit]:
    """The build job's outputs that say whether the legs pushed."""
    job_id, outputs = passed.job_id, passed.outputs
    if outputs and outputs_moved:
        raise Decline(f"job `{job_id}`'s outputs move to the merge job, and would also have to say whether the "
                      "legs pushed")
    return [wedit.set_key(("jobs", job_id, "outputs"), name, value, describe="say whether the legs pushed")
            for name, value in outputs.items()]
