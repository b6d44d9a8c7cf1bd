"""From a failed workflow run to a pull request (or a comment, or the attention issue).

The order keeps GitHub calls few: the workflow file first (stop unless it builds an image),
then the failed jobs' logs (streamed) and annotations, then the repository's files at the base
branch (workflows, Dockerfiles, bake files, config) in one GraphQL query, then the fix engine (pure), then one commit, one branch, one pull
request and its labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Callable

from ..config import CONFIG_PATH, ConfigError, parse_config
from ..diagnosis import NETWORK_FAMILY, Diagnoser, Finding
from ..fix import FixRequest, NoFix, fix
from ..github.api import RepoAPI
from ..locate import LocateError
from ..bake import bake_candidates, is_bake_file
from ..repo import MAX_BAKE_FILES, MAX_DOCKERFILES, is_dockerfile
from ..workflows.model import Workflow
from . import publish, texts

log = logging.getLogger("docker-build-fixer")

WORKFLOW_REMEDIES = ("github-builder", "native-runners", "platform-matrix", "pin-qemu", "add-buildx", "load-single-platform",
                     "timeout-minutes", "drop-platform")
FAILED = {"failure", "timed_out", "cancelled"}
MAX_JOBS = 3  # failed jobs whose logs are read, per run


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
    run_attempt: int = 1
    workflow_id: int | None = None
    head_tree: str = ""  # the tree of the run's commit (head_commit.tree_id)

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
            run_attempt=run.get("run_attempt") or 1, workflow_id=run.get("workflow_id"),
            head_tree=(run.get("head_commit") or {}).get("tree_id") or "",
        )

    @classmethod
    def from_marker(cls, payload: dict, marker: dict) -> "RunContext":
        """The failure a pull request's marker remembers (for commands and verification)."""
        repo = payload["repository"]
        return cls(
            repo=repo["full_name"], private=bool(repo.get("private")), default_branch=marker.get("base"),
            run_id=marker.get("run") or 0, run_number=0, run_name=marker.get("workflow", "workflow"),
            run_url=marker.get("run_url", ""), workflow_path=marker["workflow"], head_sha="",
            head_branch=marker.get("base"), event="", conclusion="failure", pull_numbers=[],
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
    on_default = ctx.head_branch == ctx.default_branch
    if not on_default and not ctx.pull_numbers:
        # Other branches get pull requests only when the config lists them.
        config_text = await api.file(CONFIG_PATH, ctx.default_branch)
        try:
            if ctx.head_branch not in parse_config(config_text).branches:
                return Outcome("ignored", f"branch {ctx.head_branch} is not in the config's branches")
        except ConfigError as exc:
            return Outcome("ignored", str(exc))
    workflow_text = await api.file(ctx.workflow_path, ctx.head_sha)
    if workflow_text is None:
        return Outcome("ignored", f"{ctx.workflow_path} not found (or over 1 MB) at {ctx.head_sha[:7]}")
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
    if findings[0].signature in NETWORK_FAMILY and not await repeated(api, ctx, findings[0].signature):
        # A network failure seen once may be a blip: nothing visible until it happens again.
        return Outcome("waiting", "a network failure seen once; proposing only when it repeats")
    return await propose(api, ctx, findings, job, permissions, dry_run=dry_run, handle=handle)


async def repeated(api: RepoAPI, ctx: RunContext, signature: str) -> bool:
    """Did the previous attempt of this run, or the previous run of this workflow on this
    branch, fail with the same signature?"""
    if ctx.run_attempt > 1:
        jobs = await api.attempt_jobs(ctx.run_id, ctx.run_attempt - 1)
    else:
        previous = next((r for r in await api.workflow_runs(ctx.workflow_id, ctx.head_branch)
                         if r["id"] != ctx.run_id and r.get("conclusion") in FAILED), None)
        if previous is None:
            return False
        jobs = await api.run_jobs(previous["id"])
    for job in [j for j in jobs if j.get("conclusion") in FAILED][:MAX_JOBS]:
        engine = Diagnoser()
        await api.stream_log(job["id"], engine)
        if any(f.signature == signature for f in engine.finish()):
            return True
    return False


async def propose(api: RepoAPI, ctx: RunContext, findings: list[Finding], job: dict, permissions: dict, *,
                  dry_run: bool, handle: str, extra_skip: tuple[str, ...] = (),
                  note: Callable[[str], str] | None = None) -> Outcome:
    """Read the repository at the base, run the fix engine, publish the change."""
    base = ctx.head_branch
    # The file list of the run's tree (a SHA: branch names may hold slashes; without the run's
    # commit, the branch head's); the files themselves are read at the branch's current head.
    paths = await api.tree_paths(ctx.head_tree or (await api.read_branch(base, [])).tree)
    wanted = [p for p in paths if p.startswith(".github/workflows/") and p.endswith((".yml", ".yaml"))]
    wanted += [p for p in paths if is_dockerfile(p)][:MAX_DOCKERFILES]
    wanted += bake_candidates(paths, MAX_BAKE_FILES)  # in the same query
    if CONFIG_PATH in paths:
        wanted.append(CONFIG_PATH)
    snapshot = await api.read_branch(base, wanted)
    files = snapshot.files
    try:
        config = parse_config(files.get(CONFIG_PATH))
    except ConfigError as exc:
        if not dry_run:
            await publish.attention(api, handle, texts.ATTENTION_CONFIG.format(
                error=str(exc), marker=texts.marker({"attention": "config"})))
        return Outcome("attention", str(exc))
    if not config.enabled:
        return Outcome("ignored", "disabled by the config")
    if any(ctx.workflow_path.endswith(w.removeprefix("./")) for w in config.ignore_workflows):
        return Outcome("ignored", f"{ctx.workflow_path} is in the config's ignore-workflows")

    past = publish.History(None, None, [], [], [])
    app_pulls: list[dict] = []
    if not ctx.pull_numbers:
        app_pulls = await api.app_pulls()
        branch = publish.branch_name(base, ctx.workflow_path)
        past = publish.history([p for p in app_pulls if (p.get("head") or {}).get("ref") == branch], handle)
    request = FixRequest(
        findings=findings,
        workflows={p: t for p, t in files.items() if p.startswith(".github/workflows/")},
        dockerfiles={p: t for p, t in files.items() if is_dockerfile(p)},
        bake_files={p: t for p, t in files.items() if is_bake_file(p)},
        config=config, repo_files=frozenset(paths), private=ctx.private, ghes=api.settings.ghes,
        workflow=ctx.workflow_path,
        skip=tuple(dict.fromkeys(past.skip + extra_skip)),
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
            await publish.attention(api, handle, texts.ATTENTION_PERMISSION.format(
                workflow=ctx.workflow_path, signature=needed.signature, run_url=ctx.run_url,
                diff=texts.fence(needed.diff), marker=texts.marker({"attention": "workflows-permission"})))
            return Outcome("attention", "the fix needs the workflows permission")
        return Outcome("no-fix", str(exc))
    except LocateError as exc:
        return Outcome("no-fix", str(exc))

    if dry_run:
        log.info("dry run: would publish", extra={"repo": ctx.repo, "remedy": result.remedy,
                                                   "files": sorted(result.files)})
        return Outcome("dry-run", f"would propose {result.remedy} ({', '.join(sorted(result.files))})")
    if ctx.pull_numbers:
        await publish.comment_on_pull(api, ctx, result, handle)
        return Outcome("comment", result.remedy, ctx.pull_numbers[0])
    if past.open is None:
        open_count = sum(1 for p in app_pulls if p.get("state") == "open" and publish.ours(p, handle))
        if open_count >= config.open_pull_requests_limit:
            return Outcome("limited", f"{open_count} open pull request(s) reach the config's limit")
    action, number = await publish.publish(api, ctx, result, snapshot, job, handle, config.labels, past,
                                           finding_data(findings[0]), request.skip)
    if note and number:
        await api.comment(number, note(result.remedy))  # says why, once the new remedy is known
    return Outcome(action, result.remedy, number)


def finding_data(finding: Finding) -> dict:
    """What the marker keeps of the diagnosis, so that commands can act on it later."""
    return {"platform": finding.platform, "step": finding.step, "line": finding.line,
            "excerpt": finding.excerpt[:8]}


def finding_from_marker(marker: dict) -> Finding:
    return Finding(marker["signature"], marker.get("platform"), marker.get("step"), marker.get("line") or 1,
                   list(marker.get("excerpt") or []))


def _without_workflow_remedies(request: FixRequest) -> FixRequest:
    return replace(request, skip=tuple(request.skip) + WORKFLOW_REMEDIES)
