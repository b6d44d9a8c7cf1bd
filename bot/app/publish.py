"""Publishing: the one pull request per workflow, found statelessly from its branch and the
hidden marker (trusted only in pull requests the app authored); comments; the attention issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..fix import FixResult
from ..github.api import BranchSnapshot, RepoAPI
from . import texts

MAX_ATTEMPTS = 3


@dataclass
class History:
    """What the app's earlier pull requests for this workflow say (its memory)."""

    open: dict | None  # the open pull request from the app's branch
    marker: dict | None  # its marker
    declined: list[str]  # remedies closed without merging (not superseded)
    merged: list[str]  # remedies merged earlier (the failure is back: they did not cure it)
    earlier: list[dict]  # merged pull requests, to link

    @property
    def skip(self) -> tuple[str, ...]:
        tried = list(self.declined) + list(self.merged)
        if self.marker:
            tried += self.marker.get("tried", [])
        return tuple(dict.fromkeys(tried))


def branch_name(base: str, workflow_path: str) -> str:
    stem = workflow_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return texts.BRANCH.format(base=base, stem=stem)


def ours(pull: dict, handle: str) -> dict | None:
    """The marker of a pull request the app authored; None for anyone else's (never trusted)."""
    if (pull.get("user") or {}).get("login") != f"{handle}[bot]":
        return None
    return texts.read_marker(pull.get("body"))


def history(pulls: list[dict], handle: str) -> History:
    open_pull, marker, declined, merged, earlier = None, None, [], [], []
    for pull in pulls:
        data = ours(pull, handle)
        if data is None:
            continue
        # A pull request's remedy, and the ones it moved past (`next`, failed verification).
        remedies = [data.get("remedy")] + list(data.get("tried") or [])
        if pull.get("state") == "open":
            open_pull, marker = pull, data
        elif pull.get("merged_at") or pull.get("merged"):
            merged += remedies
            earlier.append(pull)
        elif not data.get("superseded"):
            declined += remedies
    return History(open_pull, marker, [r for r in declined if r], [r for r in merged if r], earlier)


def pr_body(ctx, result: FixResult, job: dict, handle: str, marker: dict, earlier: list[dict]) -> str:
    companions = f" (with {', '.join(result.companions)})" if result.companions else ""
    intro = texts.PR_INTRO.format(workflow=ctx.workflow_path, base=marker["base"], signature=result.signature,
                                  companions=companions)
    if earlier:
        intro += "\n\n" + texts.EARLIER.format(links=", ".join(f"#{p['number']}" for p in earlier),
                                               remedies=", ".join(f"`{r}`" for r in marker.get("tried", [])))
    intro += "\n\n" + texts.UNVERIFIED
    return texts.PR_BODY.format(
        intro=intro, run_name=ctx.run_name, run_number=ctx.run_number, run_url=ctx.run_url,
        job_name=job.get("name", "job"), job_url=job.get("html_url") or ctx.run_url,
        explanation=result.explanation, handle=handle, marker=texts.marker(marker))


async def publish(api: RepoAPI, ctx, result: FixResult, snapshot: BranchSnapshot, job: dict, handle: str,
                  labels: tuple, past: History, findings_data: dict, tried: tuple[str, ...]) -> tuple[str, int | None]:
    """Open the pull request, or update the app's open one; leave a human's branch alone."""
    base = ctx.default_branch
    branch = branch_name(base, ctx.workflow_path)
    workflow_file = ctx.workflow_path.rsplit("/", 1)[-1]
    title = texts.pr_title(findings_data.get("platform"), workflow_file, result.remedy)
    open_pull = past.open
    if open_pull is not None and past.marker.get("commit") != (open_pull.get("head") or {}).get("sha"):
        # Someone else pushed to the app's branch: from now on it is theirs.
        if not past.marker.get("human"):
            await api.comment(open_pull["number"], texts.HUMAN_PUSHED.format(handle=handle))
            await api.update_pull(open_pull["number"],
                                  body=texts.with_marker(open_pull["body"], {**past.marker, "human": True}))
        return "left-alone", open_pull["number"]
    attempt = (past.marker or {}).get("attempt", 0) + 1 if open_pull else 1
    sha = await api.create_commit(snapshot, result.files, texts.COMMIT_MESSAGE.format(
        title=title, signature=result.signature, workflow=ctx.workflow_path, remedy=result.remedy,
        run_url=ctx.run_url))
    marker = {"remedy": result.remedy, "companions": result.companions, "signature": result.signature,
              "workflow": ctx.workflow_path, "base": base, "run": ctx.run_id, "run_url": ctx.run_url,
              "attempt": attempt, "commit": sha, "tried": list(tried), **findings_data}
    body = pr_body(ctx, result, job, handle, marker, past.earlier)
    if open_pull is not None:
        await api.move_branch(branch, sha)
        await api.update_pull(open_pull["number"], title=title, body=body)
        present = {label.get("name") for label in open_pull.get("labels") or []}
        if set(labels) - present:  # e.g. a run that stopped between opening and labelling
            await api.add_labels(open_pull["number"], list(labels))
        return "updated", open_pull["number"]
    created = await api.create_branch(branch, sha)
    if not created:
        await api.move_branch(branch, sha)  # left from a closed pull request: the app's to reuse
    try:
        pull = await api.create_pull(branch, base, title, body)
    except Exception:
        if created:  # no half-made work: a branch without its pull request goes again
            await api.delete_branch(branch)
        raise
    if pull is None:  # opened meanwhile by a concurrent job: update that one
        pulls = [p for p in await api.pulls_for_branch(branch) if p.get("state") == "open"]
        await api.update_pull(pulls[0]["number"], title=title, body=body)
        return "updated", pulls[0]["number"]
    await api.add_labels(pull["number"], list(labels))
    return "pull-request", pull["number"]


async def comment_on_pull(api: RepoAPI, ctx, result: FixResult, handle: str) -> None:
    """One comment on a same-repository pull request, updated in place, never repeated."""
    number = ctx.pull_numbers[0]
    body = texts.PR_COMMENT.format(run_name=ctx.run_name, run_number=ctx.run_number, run_url=ctx.run_url,
                                   signature=result.signature, diff=texts.fence(result.diff),
                                   explanation=result.explanation,
                                   marker=texts.marker({"remedy": result.remedy, "signature": result.signature,
                                                        "run": ctx.run_id}))
    existing = next((c["id"] for c in await api.comments(number)
                     if (c.get("user") or {}).get("login") == f"{handle}[bot]" and texts.read_marker(c.get("body"))),
                    None)
    await api.comment(number, body, existing)


async def attention(api: RepoAPI, handle: str, body: str) -> None:
    """The repository's one attention issue, updated in place, never duplicated."""
    issues = await api.app_issues(f"{handle}[bot]")  # GitHub lists pull requests as issues too
    existing = next((i["number"] for i in issues
                     if i.get("title") == texts.ATTENTION_TITLE and "pull_request" not in i), None)
    await api.upsert_issue(texts.ATTENTION_TITLE, body, existing)
