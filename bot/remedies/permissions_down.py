"""Move a workflow-level `permissions:` grant down into the jobs when a restructure adds a job.

With one job, a workflow-level grant is that job's grant; zizmor (excessive-permissions) flags a
workflow-level grant that writes once the workflow has more than one job, because every job
then gets the writes. So when the restructure adds the merge job to a one-job workflow whose
workflow-level block writes, each job without its own `permissions:` gets the block as written
(comments kept) and the workflow-level block goes: every original job keeps the effective
permissions it had, and the merge job gets its own least ones."""

from __future__ import annotations

from typing import Any

from ..workflows import edit as wedit
from ..workflows.model import Workflow
from ..workflows.yamldoc import plain


def _writes(grant: Any) -> bool:
    return isinstance(grant, dict) and any(str(v).strip() == "write" for v in grant.values())


def applies(workflow: Workflow) -> bool:
    """Would the added job make zizmor flag the workflow-level grant (it does not today)?"""
    jobs = [j for j in workflow.jobs.values() if isinstance(j, dict)]
    return len(jobs) == 1 and _writes(plain(workflow.root.get("permissions")))


def grant(workflow: Workflow) -> dict | None:
    """The workflow-level grant the jobs inherit, as plain data."""
    value = plain(workflow.root.get("permissions"))
    return value if isinstance(value, dict) else None


def edits(workflow: Workflow) -> list[wedit.Edit]:
    """Give each job without `permissions:` the workflow's block, then drop the workflow's."""
    doc = workflow.doc
    text = doc.entry_text(("permissions",))
    value = plain(workflow.root["permissions"])
    result: list[wedit.Edit] = []
    for job_id, job in workflow.jobs.items():
        if not isinstance(job, dict) or "permissions" in job:
            continue
        pad = " " * doc.start(("jobs", job_id, next(iter(job))))[1]
        lines = [pad + line if line.strip() else line for line in text]
        anchor = "runs-on" if "runs-on" in job else next(iter(job))
        result.append(wedit.insert_block_after(
            ("jobs", job_id, anchor), lambda d, lines=lines: lines,
            lambda data, j=job_id: data["jobs"][j].__setitem__("permissions", value),
            f"give job `{job_id}` the workflow's permissions"))
    result.append(wedit.remove_entry(("permissions",), lambda data: data.pop("permissions"),
                                     "move the workflow's permissions into its jobs"))
    return result
