"""A thin client for the calls the app makes, on gidgethub, counting every call."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from gidgethub import BadRequest, GitHubBroken
from gidgethub.aiohttp import GitHubAPI

from ..diagnosis import Diagnoser
from ..settings import Secret, Settings
from . import API_VERSION

USER_AGENT = "docker-build-fixer"
MAX_FILE = 1 << 20
LOG_CHUNK = 1 << 16
MAX_JOB_PAGES = 10  # a run's job list is read to 1,000 jobs at most


MAX_TRIES = 4
MAX_WAIT = 60.0  # longer waits fail the request; the job is retried later
RETRY_STATUSES = {500, 502, 503, 504}


def retry_wait(status: int, headers, attempt: int, now: float | None = None) -> float | None:
    """Seconds to wait before trying again, or None when the answer is final.

    5xx: exponential backoff with jitter. 403/429 with `retry-after` (secondary rate limits,
    which gidgethub reports as a plain BadRequest) or with no requests left until
    `x-ratelimit-reset`: as long as GitHub says, when that is not too long."""
    if status in RETRY_STATUSES:
        return min(MAX_WAIT, 0.25 * 2 ** attempt * random.uniform(0.5, 1.5))
    if status in (403, 429):
        if headers.get("retry-after", "").strip().isdigit():
            wait = float(headers["retry-after"])
        elif headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            wait = float(headers["x-ratelimit-reset"]) - (now or time.time()) + 1
        else:
            return None  # a plain 403: a permission, not a limit
        return max(0.0, wait) if wait <= MAX_WAIT else None
    return None


class CountingGitHubAPI(GitHubAPI):
    """gidgethub's client, counting each request by method (for the metrics and the
    API-economy figures), retrying what GitHub says to retry, and writing one request at a time
    per installation (GitHub's guidance against secondary rate limits)."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings, counter: Counter,
                 write_lock: asyncio.Lock | None = None, **kwargs):
        super().__init__(session, USER_AGENT, base_url=settings.api_url, **kwargs)
        self.counter = counter
        self.write_lock = write_lock

    async def _request(self, method, url, headers, body=b""):
        headers = {**headers, "x-github-api-version": API_VERSION}
        if method != "GET" and self.write_lock is not None:
            async with self.write_lock:
                return await self._retrying(method, url, headers, body)
        return await self._retrying(method, url, headers, body)

    async def _retrying(self, method, url, headers, body):
        for attempt in range(MAX_TRIES):
            self.counter[method] += 1
            try:
                status, response_headers, data = await super()._request(method, url, headers, body)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                if attempt == MAX_TRIES - 1:
                    raise
                await asyncio.sleep(0.25 * 2 ** attempt * random.uniform(0.5, 1.5))
                continue
            wait = retry_wait(status, response_headers, attempt)
            if wait is None or attempt == MAX_TRIES - 1:
                return status, response_headers, data
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class BranchSnapshot:
    """A branch as read once: its head commit, that commit's tree, and the text of the files
    asked for."""

    head: str
    tree: str
    files: dict[str, str]


class RepoAPI:
    """The repository calls of one job, with one installation token (``gh`` carries it)."""

    def __init__(self, gh: CountingGitHubAPI, session: aiohttp.ClientSession, settings: Settings,
                 full_name: str, token: Secret):
        self.gh = gh
        self.session = session
        self.settings = settings
        self.repo = full_name
        self.token = token

    def _url(self, path: str) -> str:
        return f"/repos/{self.repo}{path}"

    async def file(self, path: str, ref: str) -> str | None:
        """A file's text; None when there is no such file, or when it is over the 1 MB the
        contents API serves (403 `too_large`: no workflow or config is that big)."""
        try:
            data = await self.gh.getitem(self._url("/contents/{+path}{?ref}"), {"path": path, "ref": ref})
        except BadRequest as exc:
            # gidgethub keeps only the message of a 403 ("... the requested blob is too large ...").
            if exc.status_code == 404 or (exc.status_code == 403 and "too large" in str(exc)):
                return None
            raise
        if isinstance(data, list) or data.get("type") != "file":  # a directory is a list
            return None
        return base64.b64decode(data.get("content") or "").decode("utf-8", "replace")

    async def run_jobs(self, run_id: int) -> list[dict]:
        return await self._jobs(self._url(f"/actions/runs/{run_id}/jobs?filter=latest&per_page=100"))

    async def _jobs(self, url: str) -> list[dict]:
        """A run's jobs, every page: a matrix of more than a hundred legs puts the failed one
        anywhere. Bounded, so that a run of thousands of jobs costs at most MAX_JOB_PAGES calls."""
        jobs: list[dict] = []
        async for job in self.gh.getiter(url, iterable_key="jobs"):
            jobs.append(job)
            if len(jobs) >= MAX_JOB_PAGES * 100:
                break
        return jobs

    async def stream_log(self, job_id: int, engine: Diagnoser) -> int:
        """Stream a job's log into the engine; returns the bytes read. gidgethub reads whole
        bodies, so this uses aiohttp directly: the API answers with a redirect to log storage,
        which is followed without the Authorization header (storage refuses it)."""
        url = self.settings.api_url + self._url(f"/actions/jobs/{job_id}/logs")
        headers = {"Authorization": f"token {self.token.reveal()}", "User-Agent": USER_AGENT,
                   "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        self.gh.counter["GET"] += 1
        async with self.session.get(url, headers=headers, allow_redirects=False) as response:
            if response.status == 200:
                return await self._consume(response, engine)
            if response.status not in (301, 302, 303, 307, 308):
                raise _http_error(response.status)
            location = response.headers["Location"]
        async with self.session.get(location, headers={"User-Agent": USER_AGENT}) as stored:
            if stored.status != 200:
                raise _http_error(stored.status)
            return await self._consume(stored, engine)

    async def _consume(self, response: aiohttp.ClientResponse, engine: Diagnoser) -> int:
        total = 0
        async for chunk in response.content.iter_chunked(LOG_CHUNK):
            engine.feed(chunk)
            total += len(chunk)
            if total >= self.settings.log_cap_bytes:
                break  # the failure is near the end, but a log beyond the cap is not read further
        return total

    async def attempt_jobs(self, run_id: int, attempt: int) -> list[dict]:
        return await self._jobs(self._url(f"/actions/runs/{run_id}/attempts/{attempt}/jobs?per_page=100"))

    async def workflow_runs(self, workflow_id: int | None, branch: str) -> list[dict]:
        if workflow_id is None:
            return []
        data = await self.gh.getitem(self._url(f"/actions/workflows/{workflow_id}/runs{{?branch,per_page}}"),
                                     {"branch": branch, "per_page": 5})
        return list(data.get("workflow_runs") or [])

    async def permission(self, login: str) -> str | None:
        try:
            data = await self.gh.getitem(self._url("/collaborators/{login}/permission"), {"login": login})
        except BadRequest as exc:
            if exc.status_code == 404:
                return None
            raise
        return data.get("permission")

    async def react(self, comment_id: int, content: str) -> None:
        await self.gh.post(self._url(f"/issues/comments/{comment_id}/reactions"), data={"content": content})

    async def annotations(self, check_run_id: int) -> list[dict]:
        return list(await self.gh.getitem(self._url(f"/check-runs/{check_run_id}/annotations?per_page=100")))

    async def tree_paths(self, tree_sha: str) -> list[str]:
        """Every file path in a tree (one call, recursive). GitHub documents a tree SHA (or a
        branch or tag name) here, not a commit SHA."""
        data = await self.gh.getitem(self._url("/git/trees/{tree_sha}?recursive=1"), {"tree_sha": tree_sha})
        return [entry["path"] for entry in data.get("tree", []) if entry.get("type") == "blob"]

    async def read_branch(self, branch: str, paths: list[str]) -> BranchSnapshot:
        """The branch's head commit, its tree and the text of these files there, in one GraphQL
        query (REST would take a call per file, and one more for the tree)."""
        fields = [f'head: ref(qualifiedName: {json.dumps("refs/heads/" + branch)}) '
                  '{ target { oid ... on Commit { tree { oid } } } }']
        fields += [f'f{i}: object(expression: {json.dumps(branch + ":" + p)}) '
                   f'{{ ... on Blob {{ text isBinary isTruncated byteSize }} }}' for i, p in enumerate(paths)]
        query = ("query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { "
                 + " ".join(fields) + " } }")
        owner, name = self.repo.split("/")
        data = await self.gh.graphql(query, endpoint=self.settings.graphql_url, owner=owner, name=name)
        repository = data.get("repository") or {}
        target = (repository.get("head") or {}).get("target") or {}
        head, tree = target.get("oid"), (target.get("tree") or {}).get("oid")
        if not head or not tree:
            raise BadRequest(HTTPStatus.NOT_FOUND, f"branch {branch} not found")
        found = {}
        for i, path in enumerate(paths):
            blob = repository.get(f"f{i}")
            # A binary or huge "Dockerfile" or workflow is not one: left out, like the CLI does.
            # A truncated text is left out too: an edit of it would commit the file cut short.
            if (blob and not blob.get("isBinary") and not blob.get("isTruncated") and blob.get("text") is not None
                    and (blob.get("byteSize") or 0) <= MAX_FILE):
                found[path] = blob["text"]
        return BranchSnapshot(head, tree, found)

    async def pulls_for_branch(self, head: str) -> list[dict]:
        owner = self.repo.split("/")[0]
        return list(await self.gh.getitem(self._url("/pulls{?head,state,per_page}"),
                                          {"head": f"{owner}:{head}", "state": "all", "per_page": 100}))

    async def app_pulls(self, prefix: str = "docker-build-fixer/") -> list[dict]:
        """The app's pull requests, open, closed and merged (its memory), in one call: the
        most recently updated hundred pull requests of the repository, from the app's branches."""
        pulls = await self.gh.getitem(self._url("/pulls?state=all&sort=updated&direction=desc&per_page=100"))
        return [p for p in pulls if str((p.get("head") or {}).get("ref", "")).startswith(prefix)]

    async def create_commit(self, base: BranchSnapshot, files: dict[str, str], message: str) -> str:
        """One commit on top of the base: these files changed, every other file as in the base's
        tree (`base_tree` is a tree SHA, the parent a commit SHA)."""
        tree = await self.gh.post(self._url("/git/trees"), data={
            "base_tree": base.tree,
            "tree": [{"path": p, "mode": "100644", "type": "blob", "content": t} for p, t in sorted(files.items())],
        })
        # No author or committer: GitHub signs commits the API makes for an app (Verified).
        commit = await self.gh.post(self._url("/git/commits"), data={
            "message": message, "tree": tree["sha"], "parents": [base.head]})
        return commit["sha"]

    async def create_branch(self, branch: str, sha: str) -> bool:
        """True when created; False when it exists already ("Reference already exists")."""
        try:
            await self.gh.post(self._url("/git/refs"), data={"ref": f"refs/heads/{branch}", "sha": sha})
            return True
        except BadRequest as exc:
            if exc.status_code == 422 and "already exists" in str(exc):
                return False
            raise

    async def delete_branch(self, branch: str) -> None:
        await self.gh.delete(self._url("/git/refs/{+ref}"), {"ref": f"heads/{branch}"})

    async def move_branch(self, branch: str, sha: str) -> None:
        await self.gh.patch(self._url("/git/refs/{+ref}"), {"ref": f"heads/{branch}"},
                            data={"sha": sha, "force": True})

    async def create_pull(self, head: str, base: str, title: str, body: str) -> dict | None:
        """The new pull request, or None when one is open for this branch already."""
        try:
            # No maintainer_can_modify: it is for branches of forks, and GitHub refuses it on a
            # pull request between branches of one repository.
            return await self.gh.post(self._url("/pulls"), data={"title": title, "head": head, "base": base,
                                                                 "body": body})
        except BadRequest as exc:
            if exc.status_code == 422 and "already exists" in str(exc):
                return None
            raise

    async def update_pull(self, number: int, **fields) -> None:
        await self.gh.patch(self._url(f"/pulls/{number}"), data=fields)

    async def add_labels(self, number: int, labels: list[str]) -> None:
        # Labels that do not exist yet are created by GitHub when added this way.
        await self.gh.post(self._url(f"/issues/{number}/labels"), data={"labels": labels})

    async def comments(self, number: int) -> list[dict]:
        return list(await self.gh.getitem(self._url(f"/issues/{number}/comments?per_page=100")))

    async def comment(self, number: int, body: str, existing: int | None = None) -> None:
        if existing:
            await self.gh.patch(self._url(f"/issues/comments/{existing}"), data={"body": body})
        else:
            await self.gh.post(self._url(f"/issues/{number}/comments"), data={"body": body})

    async def app_issues(self, creator: str) -> list[dict]:
        return list(await self.gh.getitem(self._url("/issues{?creator,state}"), {"creator": creator, "state": "open"}))

    async def upsert_issue(self, title: str, body: str, existing: int | None) -> None:
        if existing:
            await self.gh.patch(self._url(f"/issues/{existing}"), data={"title": title, "body": body})
        else:
            await self.gh.post(self._url("/issues"), data={"title": title, "body": body})


def _http_error(code: int) -> Exception:
    """As gidgethub reports it: a 5xx is GitHub broken (the job is retried), a 4xx is final."""
    return GitHubBroken(HTTPStatus(code)) if code >= 500 else BadRequest(HTTPStatus(code))
