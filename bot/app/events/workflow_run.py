"""workflow_run.completed: the trigger."""

from __future__ import annotations

from gidgethub import sansio
from gidgethub.routing import Router

from ...planning import is_emulated
from .. import texts
from ..pipeline import Outcome, RunContext, diagnose_run, handle_failed_run, propose
from ..publish import MAX_ATTEMPTS, ours

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
    if (payload.get("installation") or {}).get("id") is None:
        return "no installation"
    return None


@router.register("workflow_run", action="completed")
async def failed_run(event: sansio.Event, app, result: dict) -> None:
    """A failed, timed-out or timeout-cancelled run on the default branch (a pull request on a
    same-repository branch gets a comment instead) is diagnosed and fixed. Successful, skipped
    and neutral runs, forks and the app's own branches cost no GitHub call."""
    if str((event.data.get("workflow_run") or {}).get("head_branch") or "").startswith(OWN_BRANCH_PREFIX):
        await verify(event, app, result)
        return
    reason = skip_reason(event.data)
    if reason:
        result["outcome"] = Outcome("ignored", reason)
        return
    ctx = RunContext.from_payload(event.data)
    api, token = await app.repo_api(event.data["installation"]["id"], ctx.repo)
    result["outcome"] = await handle_failed_run(api, ctx, token.permissions, dry_run=app.settings.dry_run,
                                                handle=app.handle)


async def verify(event: sansio.Event, app, result: dict) -> None:
    """The app follows the runs of its own branch: a success marks its pull request verified;
    the same signature again on an emulated leg pushes the next remedy to the same pull
    request and says why (at most three attempts, then one comment, and it stops). Runs of an
    older commit, of a branch a human took over, or with another failure change nothing."""
    run = event.data["workflow_run"]
    if run.get("conclusion") not in ("success", "failure", "timed_out") or not event.data.get("installation"):
        result["outcome"] = Outcome("ignored", f"own branch, conclusion {run.get('conclusion')}")
        return
    api, token = await app.repo_api(event.data["installation"]["id"], event.data["repository"]["full_name"])
    pull = next((p for p in await api.app_pulls() if (p.get("head") or {}).get("ref") == run["head_branch"]
                 and p.get("state") == "open"), None)
    marker = ours(pull, app.handle) if pull else None
    if marker is None or marker.get("human") or marker.get("commit") != run.get("head_sha"):
        result["outcome"] = Outcome("ignored", "no current pull request of the app for this run")
        return
    if run["conclusion"] == "success":
        if not marker.get("verified"):
            body = (pull.get("body") or "").replace(texts.UNVERIFIED, texts.VERIFIED.format(run_url=run.get("html_url")))
            body = texts.with_marker(body, {**marker, "verified": True})
            await api.update_pull(pull["number"], body=body)
        result["outcome"] = Outcome("verified", marker.get("remedy") or "", pull["number"])
        return
    ctx = RunContext.from_payload(event.data)
    findings, job = await diagnose_run(api, ctx)
    if not findings or findings[0].signature != marker.get("signature") or not is_emulated(findings[0]):
        result["outcome"] = Outcome("ignored", "the branch's failure is not the same emulated one")
        return
    if marker.get("attempt", 1) >= MAX_ATTEMPTS:
        if not marker.get("gave_up"):
            await api.comment(pull["number"], texts.GAVE_UP.format(signature=marker["signature"],
                                                                   attempts=marker.get("attempt"),
                                                                   run_url=run.get("html_url")))
            body = texts.with_marker(pull["body"], {**marker, "gave_up": True})
            await api.update_pull(pull["number"], body=body)
        result["outcome"] = Outcome("gave-up", marker.get("remedy") or "", pull["number"])
        return
    base_ctx = RunContext.from_marker(event.data, marker)

    def note(remedy: str) -> str:
        return texts.NEXT_PUSHED.format(signature=marker["signature"], run_url=run.get("html_url") or "",
                                        previous=marker["remedy"], remedy=remedy)

    result["outcome"] = await propose(api, base_ctx, findings, job, token.permissions, dry_run=app.settings.dry_run,
                                      handle=app.handle, extra_skip=(marker["remedy"],), note=note)
