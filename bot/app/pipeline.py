"""From a failed workflow run to a pull request (or a comment, or the attention issue).

The order keeps GitHub calls few: the workflow file first (stop unless it builds an image),
then the failed jobs' logs (streamed) and annotations, then the repository's files at the base
branch in one GraphQL query, then the fix engine (pure), then one commit, one branch, one pull
request and its labels.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from ..config import CONFIG_PATH, ConfigError, parse_config
from ..diagnosis import Diagnoser, Finding
from ..fix import FixRequest, FixResult, NoFix, fix
from ..github.api import RepoAPI
from ..locate import LocateError
from ..repo import MAX_DOCKERFILES
from ..workflows.model import Workflow
from . import texts

log = logging.getLogger("docker-build-fixer")

WORKFLOW_REMEDIES = ("native-runners", "platform-matrix", "pin-qemu", "add-buildx", "load-single-platform",
                     "timeout-minutes", "drop-platform")
FAILED = {"failure", "timed_out", "cancelled"}
MAX_JOBS = 3  # failed jobs whose logs are read, per run
_DOCKERFILE = re.compile(r"(?:^|/)(?:Dockerfile(?:\.[^/]+)?|[^/]+\.[Dd]ockerfile|Containerfile(?:\.[^/]+)?)$")


@dataclass
class Outcome:
    action: str  # ignored | no-finding | no-fix | dry-run | pull-request | comment | attention
    detail: str = ""
    pull_number: int | None = None


@dataclass
class RunContext:
    """What the webhook says about the failed run."""

    repo: str
    private: bool
    default_branch: str
    run_id: int
    run_number: int
    run_name: str
    run_url: str
    workflow_path: str
    head_sha: str
    head_branch: str
    event: str
    conclusion: str
    pull_numbers: list[int]

    @classmethod
    def from_payload(cls, payload: dict) -> "RunContext":
        run, repo = payload["workflow_run"], payload["repository"]
        return cls(
            repo=repo["full_name"], private=bool(repo.get("private")), default_branch=repo["default_branch"],
            run_id=run["id"], run_number=run.get("run_number") or 0, run_name=run.get("name") or "workflow",
            run_url=run.get("html_url") or "", workflow_path=run.get("path") or "", head_sha=run["head_sha"],
            head_branch=run.get("head_branch") or "", event=run.get("event") or "",
            conclusion=run.get("conclusion") or "",
            pull_numbers=[p["number"] for p in run.get("pull_requests") or [] if "number" in p],
        )


async def diagnose_run(api: RepoAPI, ctx: RunContext) -> tuple[list[Finding], dict | None]:
    """Findings of the first failed job that shows any, and that job."""
    jobs = [j for j in await api.run_jobs(ctx.run_id) if j.get("conclusion") in FAILED]
    for job in jobs[:MAX_JOBS]:
        engine = Diagnoser(f"job {job['id']} ({job.get('name')})")
        await api.stream_log(job["id"], engine)
        # Timeouts are reported as check-run annotations (a job's check run has the job's id).
        for note in await api.annotations(job["id"]):
            engine.feed(f"\n##[error]{note.get('message', '')}\n".encode())
        findings = engine.finish()
        if findings:
            return findings, job
    return [], None


async def handle_failed_run(api: RepoAPI, ctx: RunContext, permissions: dict, *, dry_run: bool,
                            handle: str) -> Outcome:
    workflow_text = await api.file(ctx.workflow_path, ctx.head_sha)
    if workflow_text is None:
        return Outcome("ignored", f"{ctx.workflow_path} not found at {ctx.head_sha[:7]}")
    try:
        if not Workflow.parse(ctx.workflow_path, workflow_text).builds:
            return Outcome("ignored", f"{ctx.workflow_path} builds no image")
    except ValueError as exc:
        return Outcome("ignored", f"{ctx.workflow_path}: {exc}")

    findings, job = await diagnose_run(api, ctx)
    if not findings:
        return Outcome("no-finding", "no known multi-platform build failure in the failed jobs' logs")
    if ctx.conclusion == "cancelled" and not any(f.signature == "job-timeout" for f in findings):
        return Outcome("ignored", "cancelled, and not by a timeout")

    base = ctx.default_branch if not ctx.pull_numbers else ctx.head_branch
    head = await api.branch_head(base)
    paths = await api.tree_paths(head)
    wanted = [p for p in paths if p.startswith(".github/workflows/") and p.endswith((".yml", ".yaml"))]
    wanted += [p for p in paths if _DOCKERFILE.search(p)][:MAX_DOCKERFILES]
    if CONFIG_PATH in paths:
        wanted.append(CONFIG_PATH)
    files = await api.read_files(head, wanted)
    try:
        config = parse_config(files.get(CONFIG_PATH))
    except ConfigError as exc:
        return Outcome("no-fix", str(exc))  # explained in the attention issue by issue-level handling
    request = FixRequest(
        findings=findings,
        workflows={p: t for p, t in files.items() if p.startswith(".github/workflows/")},
        dockerfiles={p: t for p, t in files.items() if _DOCKERFILE.search(p)},
        config=config, repo_files=frozenset(paths), private=ctx.private, workflow=ctx.workflow_path,
    )
    can_edit_workflows = permissions.get("workflows") == "write"
    try:
        result = fix(_without_workflow_remedies(request) if not can_edit_workflows else request)
    except NoFix as exc:
        if not can_edit_workflows:
            try:
                needed = fix(request)
            except (NoFix, LocateError):
                return Outcome("no-fix", str(exc))
            if dry_run:
                return Outcome("dry-run", "would ask for the workflows permission")
            await _attention(api, ctx, needed, handle)
            return Outcome("attention", "the fix needs the workflows permission")
        return Outcome("no-fix", str(exc))
    except LocateError as exc:
        return Outcome("no-fix", str(exc))

    if dry_run:
        log.info("dry run: would publish", extra={"repo": ctx.repo, "remedy": result.remedy,
                                                   "files": sorted(result.files)})
        return Outcome("dry-run", f"would propose {result.remedy} ({', '.join(sorted(result.files))})")
    if ctx.pull_numbers:
        await _comment(api, ctx, result, handle)
        return Outcome("comment", result.remedy, ctx.pull_numbers[0])
    number = await _publish(api, ctx, result, head, findings, job, handle, config.labels)
    return Outcome("pull-request", result.remedy, number)


def _without_workflow_remedies(request: FixRequest) -> FixRequest:
    return replace(request, skip=tuple(request.skip) + WORKFLOW_REMEDIES)


def _marker(ctx: RunContext, result: FixResult, base: str) -> str:
    return texts.marker({"remedy": result.remedy, "companions": result.companions, "signature": result.signature,
                         "workflow": ctx.workflow_path, "base": base, "run": ctx.run_id, "attempt": 1})


async def _publish(api: RepoAPI, ctx: RunContext, result: FixResult, head: str, findings: list[Finding],
                   job: dict, handle: str, labels: tuple) -> int:
    base = ctx.default_branch
    stem = ctx.workflow_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    branch = texts.BRANCH.format(base=base, stem=stem)
    workflow_name = ctx.workflow_path.rsplit("/", 1)[-1]
    title = texts.pr_title(findings[0].platform, workflow_name, result.remedy)
    sha = await api.create_commit(head, result.files, texts.COMMIT_MESSAGE.format(
        title=title, signature=result.signature, workflow=ctx.workflow_path, remedy=result.remedy,
        run_url=ctx.run_url))
    if not await api.create_branch(branch, sha):
        await api.move_branch(branch, sha)  # our branch from an earlier diagnosis: replace it
    companions = f" (with {', '.join(result.companions)})" if result.companions else ""
    body = texts.PR_BODY.format(
        intro=texts.PR_INTRO.format(workflow=ctx.workflow_path, base=base, signature=result.signature,
                                    companions=companions),
        run_name=ctx.run_name, run_number=ctx.run_number, run_url=ctx.run_url,
        job_name=job.get("name", "job"), job_url=job.get("html_url") or ctx.run_url,
        explanation=result.explanation, handle=handle, marker=_marker(ctx, result, base))
    pull = await api.create_pull(branch, base, title, body)
    if pull is None:
        pull = await api.open_pull(branch)
        await api.update_pull(pull["number"], title, body)
    await api.add_labels(pull["number"], list(labels))
    return pull["number"]


async def _comment(api: RepoAPI, ctx: RunContext, result: FixResult, handle: str) -> None:
    number = ctx.pull_numbers[0]
    body = texts.PR_COMMENT.format(run_name=ctx.run_name, run_number=ctx.run_number, run_url=ctx.run_url,
                                   signature=result.signature, diff=texts.fence(result.diff),
                                   explanation=result.explanation, marker=_marker(ctx, result, ctx.head_branch))
    existing = next((c["id"] for c in await api.comments(number)
                     if c.get("user", {}).get("login") == f"{handle}[bot]" and texts.read_marker(c.get("body"))),
                    None)
    await api.comment(number, body, existing)


async def _attention(api: RepoAPI, ctx: RunContext, needed: FixResult, handle: str) -> None:
    """The repository's one attention issue, updated in place, never duplicated."""
    body = texts.ATTENTION_PERMISSION.format(
        workflow=ctx.workflow_path, signature=needed.signature, run_url=ctx.run_url,
        diff=texts.fence(needed.diff), marker=texts.marker({"attention": "workflows-permission"}))
    issues = await api.app_issues(f"{handle}[bot]")
    existing = next((i["number"] for i in issues if i.get("title") == texts.ATTENTION_TITLE), None)
    await api.upsert_issue(texts.ATTENTION_TITLE, body, existing)
