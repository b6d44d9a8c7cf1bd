"""workflow_run.completed: the trigger."""

from __future__ import annotations

from gidgethub import sansio
from gidgethub.routing import Router

from ..pipeline import Outcome, RunContext, handle_failed_run

router = Router()
OWN_BRANCH_PREFIX = "docker-build-fixer/"


def skip_reason(payload: dict) -> str | None:
    """Why a completed run needs no work (and no GitHub call), or None when it does."""
    run = payload.get("workflow_run") or {}
    if run.get("conclusion") not in ("failure", "timed_out", "cancelled"):
        return f"conclusion {run.get('conclusion')}"
    head_repo = (run.get("head_repository") or {}).get("full_name")
    if head_repo != (payload.get("repository") or {}).get("full_name"):
        return "a fork's run"
    if str(run.get("head_branch") or "").startswith(OWN_BRANCH_PREFIX):
        return "the app's own branch"
    default = (payload.get("repository") or {}).get("default_branch")
    if run.get("head_branch") != default and not run.get("pull_requests"):
        return f"branch {run.get('head_branch')} is not the default branch"
    if (payload.get("installation") or {}).get("id") is None:
        return "no installation"
    return None


@router.register("workflow_run", action="completed")
async def failed_run(event: sansio.Event, app, result: dict) -> None:
    """A failed, timed-out or timeout-cancelled run on the default branch (a pull request on a
    same-repository branch gets a comment instead) is diagnosed and fixed. Successful, skipped
    and neutral runs, forks and the app's own branches cost no GitHub call."""
    reason = skip_reason(event.data)
    if reason:
        result["outcome"] = Outcome("ignored", reason)
        return
    ctx = RunContext.from_payload(event.data)
    api, token = await app.repo_api(event.data["installation"]["id"], ctx.repo)
    result["outcome"] = await handle_failed_run(api, ctx, token.permissions, dry_run=app.settings.dry_run,
                                                handle=app.handle)
