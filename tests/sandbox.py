"""A GitHub sandbox: a stateful HTTP server on loopback for the REST and GraphQL calls the app
makes. Every REST request is checked against GitHub's published OpenAPI description (the
operation exists; query parameters and body fields are documented; the JSON body validates),
every response it sends, errors included, validates against the documented response, and every
GraphQL document is validated against GitHub's published schema and executed over the sandbox's
state (tests/graphql_contract.py). It enforces what GitHub documents: app JWTs and expiring
installation tokens, the `workflows` permission for `.github/workflows/` changes, `base_tree` as
a tree SHA, 422 on an existing ref or pull request, rate-limit headers. What breaks the contract
is recorded in ``violations`` (tests/conftest.py fails the test that caused it). Job logs answer
with a 302 to a second origin that refuses an Authorization header, as GitHub's log storage
does. A third origin stands in for github.com's pages of the manifest flow
(tests/sandbox_web.py); the apps created there authenticate with their own keys, and
``POST /app-manifests/{code}/conversions`` hands over their credentials once.

One sandbox for the whole suite: in-process (``Sandbox.start()``) or as its own process
(``python -m tests.sandbox --port P --logs-port Q --app-key PUBLIC_PEM``). Tests set it up and
read its state through ``/_sandbox/...`` endpoints, which are not GitHub's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web

from . import contract, graphql_contract
from .sandbox_web import ManifestPages

SANDBOX = "/_sandbox/"
# The REST API versions GitHub serves (docs: "API Versions"); any other is refused with a 400.
API_VERSIONS = {"2022-11-28", "2026-03-10"}
FORBIDDEN = {"message": "Resource not accessible by integration",
             "documentation_url": "https://docs.github.com/rest", "status": "403"}
MAX_CONTENTS = 1 << 20
TOO_LARGE = ("This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, "
             "but you can use the Git Data API to request blobs up to 100 MB in size.")
NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


def validation_failed(message: str, doc: str = "", errors: list | None = None) -> dict:
    """GitHub's 422 body (the documented `validation-error`): a message, the page that
    documents the operation, and the field errors where there are any."""
    body = {"message": message, "documentation_url": f"https://docs.github.com/rest/{doc}".rstrip("/"),
            "status": "422"}
    if errors:
        body["errors"] = errors
    return body


# `maintainer_can_modify` lets the base repository's maintainers push to a branch of a fork: on a
# pull request from a branch of the same repository GitHub refuses it.
FORK_COLLAB = validation_failed("Validation Failed", "pulls/pulls#create-a-pull-request", [
    {"resource": "PullRequest", "field": "fork_collab", "code": "custom",
     "message": "Fork collab can only be enabled on cross-repo pull requests"}])


def sha_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def now_iso(offset: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # tree sha -> {path: blob sha}
    commits: dict[str, dict] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> commit sha
    issues: dict[int, dict] = field(default_factory=dict)  # pull requests are issues too
    comments: dict[int, dict] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    jobs: dict[int, dict] = field(default_factory=dict)
    runs: dict[int, list[int]] = field(default_factory=dict)
    run_info: dict[int, dict] = field(default_factory=dict)  # workflow_id, branch, conclusion
    logs: dict[int, bytes] = field(default_factory=dict)
    annotations: dict[int, list] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # collaborator login -> permission
    tags: dict[str, dict] = field(default_factory=dict)  # name -> {"commit": sha, "annotated": bool}
    blob_text_limit: int | None = None  # GraphQL's Blob.text cut here (isTruncated), when set

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def commit(self, files: dict[str, bytes], parents: list[str], message: str, verified: bool = False) -> str:
        tree = {}
        for path, data in files.items():
            blob = sha_of(data)
            self.blobs[blob] = data
            tree[path] = blob
        tree_sha = sha_of(json.dumps(sorted(tree.items())).encode())
        self.trees[tree_sha] = tree
        sha = sha_of(f"{tree_sha}{parents}{message}{time.time()}{secrets.token_hex(4)}".encode())
        self.commits[sha] = {"tree": tree_sha, "parents": parents, "message": message, "verified": verified,
                             "author": None}
        return sha

    def resolve(self, rev: str) -> str | None:
        """The commit a branch, tag (short or fully qualified) or commit SHA names."""
        rev = rev.removeprefix("refs/")
        for ref in (rev, f"heads/{rev}", f"tags/{rev}"):
            if ref in self.refs:
                return self.refs[ref]
        return rev if rev in self.commits else None

    def files_at(self, commit: str) -> dict[str, bytes]:
        return {p: self.blobs[b] for p, b in self.trees[self.commits[commit]["tree"]].items()}


class Sandbox:
    def __init__(self, app_public_key: str, app_id: int = 4242, slug: str = "docker-build-fixer",
                 token_ttl: float = 3600):
        self.app_id = app_id
        self.slug = slug
        # Apps by id: the one the suite starts with, and those created through the manifest flow.
        self.apps: dict[int, dict] = {app_id: {"id": app_id, "slug": slug, "name": slug, "owner": "octocat",
                                               "public_key": app_public_key}}
        self.manifest_codes: dict[str, dict] = {}  # code -> {"app", "pem", "expires"}: single use
        self.manifest_posts: list[dict] = []  # what reached the "create app from manifest" page
        self.token_ttl = token_ttl
        self.repos: dict[str, Repo] = {}
        self.installations: dict[int, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.calls: list[dict] = []  # every GitHub request: method, template, status
        self.violations: list[str] = []
        self.deliveries: list[dict] = []
        self.redelivered: list[int] = []
        self.faults: list[dict] = []  # injected: {"match": regex, "status": n, "times": k, "headers": {}}
        self.latency = 0.0
        self._ids = itertools.count(1000)
        self.base_url = ""
        self.logs_url = ""
        self.web_url = ""  # github.com's pages (the manifest flow)
        self._runners: list[web.AppRunner] = []

    # -- setup -----------------------------------------------------------------------------

    def add_installation(self, installation_id: int, account: str, permissions: dict, repos: list[str]) -> None:
        self.installations[installation_id] = {"account": account, "permissions": permissions, "repos": repos}

    def add_repo(self, full_name: str, files: dict[str, str], default_branch: str = "main",
                 private: bool = False, collaborators: dict | None = None) -> Repo:
        owner, name = full_name.split("/")
        repo = Repo(owner, name, next(self._ids), default_branch, private)
        head = repo.commit({p: t.encode() for p, t in files.items()}, [], "initial")
        repo.refs[f"heads/{default_branch}"] = head
        repo.permissions = dict(collaborators or {})
        self.repos[full_name] = repo
        return repo

    def add_run(self, full_name: str, run_id: int, jobs: list[dict], info: dict | None = None) -> None:
        """jobs: [{"id", "name", "conclusion", "log": bytes, "annotations": [...]}]"""
        repo = self.repos[full_name]
        repo.runs[run_id] = []
        repo.run_info[run_id] = dict(info or {})
        for job in jobs:
            repo.runs[run_id].append(job["id"])
            repo.jobs[job["id"]] = {"id": job["id"], "run_id": run_id, "name": job.get("name", "build"),
                                    "conclusion": job.get("conclusion", "failure"),
                                    "head_sha": repo.refs[f"heads/{repo.default_branch}"]}
            repo.logs[job["id"]] = job.get("log", b"")
            repo.annotations[job["id"]] = job.get("annotations", [])

    # -- serving ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, logs_port: int = 0) -> None:
        api = web.Application(middlewares=[self._contract], client_max_size=64 << 20)
        api.router.add_route("*", "/{tail:.*}", self._dispatch)
        logs = web.Application()
        logs.router.add_get("/logs/{repo_id}/{job_id}", self._serve_log)
        pages = ManifestPages(self).application()
        for app, wanted in ((api, port), (logs, logs_port), (pages, 0)):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, host, wanted)
            await site.start()
            self._runners.append(runner)
        api_port = self._runners[0].addresses[0][1]
        log_port = self._runners[1].addresses[0][1]
        self.base_url = f"http://{host}:{api_port}"
        self.logs_url = f"http://{host}:{log_port}"
        self.web_url = f"http://{host}:{self._runners[2].addresses[0][1]}"

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    @web.middleware
    async def _contract(self, request: web.Request, handler):
        if request.path.startswith(SANDBOX):
            return await handler(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        body = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self.violations.append(f"{request.method} {request.path}: body is not JSON")
                return self._json(400, {"message": "Problems parsing JSON"})
        request["json"] = body
        if request.path == "/graphql":
            response = await handler(request)
            variables = (body or {}).get("variables") or {} if isinstance(body, dict) else {}
            self.calls.append({"method": "POST", "template": "/graphql", "status": response.status,
                               "path": f"/graphql {variables.get('owner')}/{variables.get('name')}"})
            return response
        version = request.headers.get("X-GitHub-Api-Version")
        if version is None:
            self.violations.append(f"{request.method} {request.path}: no X-GitHub-Api-Version (the app pins one)")
        elif version not in API_VERSIONS:
            return self._json(400, {"message": f"Unsupported 'X-GitHub-Api-Version': '{version}'",
                                    "documentation_url": "https://docs.github.com/rest/about-the-rest-api/api-versions"})
        found = contract.operation(request.method, request.path)
        if found is None:
            self.violations.append(f"{request.method} {request.path}: not a GitHub REST operation")
            return self._json(404, NOT_FOUND)
        template, _ = found
        request["template"] = template
        # GitHub ignores a query parameter or body field it does not know: a violation, answered as usual.
        self.violations += contract.query_errors(request.method, template, list(request.query.items()))
        self.violations += contract.unknown_fields(request.method, template, body)
        errors = contract.request_errors(request.method, request.path, body)
        if errors:
            self.violations += errors
            # As GitHub words a body that does not match the operation's schema.
            return self._json(422, validation_failed("Invalid request.\n\n" + "\n".join(errors)))
        fault = await self._fault(request)
        response = fault or await handler(request)
        self.calls.append({"method": request.method, "template": template, "status": response.status,
                           "path": request.path})
        if response.content_type == "application/json" and not fault:
            check = contract.response_errors if response.status < 300 else contract.error_body_errors
            problems = check(request.method, template, response.status, json.loads(response.body))
            self.violations += [f"sandbox response: {p}" for p in problems]
        return response

    async def _fault(self, request: web.Request) -> web.Response | None:
        """Injected faults: an error status, or (``delay``) a slow answer."""
        for fault in self.faults:
            if fault["times"] > 0 and re.search(fault["match"], f"{request.method} {request.path}"):
                fault["times"] -= 1
                if "delay" in fault:
                    await asyncio.sleep(fault["delay"])
                    return None
                return self._json(fault["status"], {"message": fault.get("message", "injected fault")},
                                  fault.get("headers"))
        return None

    @staticmethod
    def _json(status: int, body: Any, headers: dict | None = None) -> web.Response:
        response = web.json_response(body, status=status)
        reset = int(time.time()) + 3600
        response.headers.update({"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
                                 "x-ratelimit-used": "1", "x-ratelimit-reset": str(reset),
                                 "x-ratelimit-resource": "core"})
        response.headers.update(headers or {})
        return response

    # -- auth ------------------------------------------------------------------------------

    def _app_auth(self, request: web.Request) -> dict | None:
        """The app whose key signed the request's JWT (its iss names it), if any."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            issuer = jwt.decode(value, options={"verify_signature": False}).get("iss")
            app = self.apps.get(int(issuer))
            if app is None:
                return None
            claims = jwt.decode(value, app["public_key"], algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]})
        except (jwt.PyJWTError, TypeError, ValueError):
            return None
        # GitHub: the expiration "no more than 10 minutes into the future".
        return app if claims["exp"] - time.time() <= 600 else None

    def _token(self, request: web.Request) -> dict | None:
        header = request.headers.get("Authorization", "")
        value = header.split(" ", 1)[1] if " " in header else ""
        token = self.tokens.get(value)
        if token is None or token["expires"] < time.time():
            return None
        return token

    # -- dispatch --------------------------------------------------------------------------

    # To serve another GitHub operation: one row here and a handler method taking (request, token,
    # repo, *the pattern's other groups) for /repos/... paths, (request, *groups) for /app/...
    # paths (app JWT). The contract checks of ``_contract`` apply to it with nothing more to do.
    PUBLIC_READS = {"matching_refs", "get_tag"}  # answered without a token for public repositories
    ROUTES = [
        ("GET", r"^/app$", "get_app"),
        ("POST", r"^/app/installations/(\d+)/access_tokens$", "create_token"),
        ("GET", r"^/app/hook/deliveries$", "list_deliveries"),
        ("POST", r"^/app/hook/deliveries/(\d+)/attempts$", "redeliver"),
        ("POST", r"^/app-manifests/([^/]+)/conversions$", "convert_manifest"),
        ("POST", r"^/graphql$", "graphql"),
        ("GET", r"^/repos/([^/]+/[^/]+)/contents/(.+)$", "get_contents"),
        ("GET", r"^/repos/([^/]+/[^/]+)/actions/runs/(\d+)/jobs$", "list_jobs"),
        ("GET", r"^/repos/([^/]+/[^/]+)/actions/jobs/(\d+)/logs$", "job_logs"),
        ("GET", r"^/repos/([^/]+/[^/]+)/actions/runs/(\d+)/attempts/(\d+)/jobs$", "attempt_jobs"),
        ("GET", r"^/repos/([^/]+/[^/]+)/actions/workflows/(\d+)/runs$", "workflow_runs"),
        ("GET", r"^/repos/([^/]+/[^/]+)/check-runs/(\d+)/annotations$", "annotations"),
        ("GET", r"^/repos/([^/]+/[^/]+)/git/ref/(.+)$", "get_ref"),
        ("GET", r"^/repos/([^/]+/[^/]+)/git/trees/(.+)$", "get_tree"),
        ("GET", r"^/repos/([^/]+/[^/]+)/git/matching-refs/(.+)$", "matching_refs"),
        ("GET", r"^/repos/([^/]+/[^/]+)/git/tags/([0-9a-f]{40})$", "get_tag"),
        ("POST", r"^/repos/([^/]+/[^/]+)/git/trees$", "create_tree"),
        ("POST", r"^/repos/([^/]+/[^/]+)/git/commits$", "create_commit"),
        ("POST", r"^/repos/([^/]+/[^/]+)/git/refs$", "create_ref"),
        ("PATCH", r"^/repos/([^/]+/[^/]+)/git/refs/(.+)$", "update_ref"),
        ("DELETE", r"^/repos/([^/]+/[^/]+)/git/refs/(.+)$", "delete_ref"),
        ("GET", r"^/repos/([^/]+/[^/]+)/pulls$", "list_pulls"),
        ("POST", r"^/repos/([^/]+/[^/]+)/pulls$", "create_pull"),
        ("PATCH", r"^/repos/([^/]+/[^/]+)/pulls/(\d+)$", "update_pull"),
        ("POST", r"^/repos/([^/]+/[^/]+)/issues/(\d+)/labels$", "add_labels"),
        ("GET", r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$", "list_comments"),
        ("POST", r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$", "create_comment"),
        ("PATCH", r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$", "update_comment"),
        ("GET", r"^/repos/([^/]+/[^/]+)/issues$", "list_issues"),
        ("POST", r"^/repos/([^/]+/[^/]+)/issues$", "create_issue"),
        ("PATCH", r"^/repos/([^/]+/[^/]+)/issues/(\d+)$", "update_issue"),
        ("POST", r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)/reactions$", "react"),
        ("GET", r"^/repos/([^/]+/[^/]+)/collaborators/([^/]+)/permission$", "collaborator_permission"),
        ("GET", r"^/_sandbox/state$", "state"),
        ("POST", r"^/_sandbox/setup$", "setup"),
    ]

    async def _dispatch(self, request: web.Request) -> web.Response:
        for method, pattern, name in self.ROUTES:
            m = re.match(pattern, request.path)
            if m and request.method == method:
                args = m.groups()
                if name in ("state", "setup"):
                    return await getattr(self, name)(request)
                if name == "convert_manifest":  # authenticated by the code alone, as on GitHub
                    return await self.convert_manifest(request, *args)
                if request.path.startswith("/app") and name != "graphql":
                    request["app"] = self._app_auth(request)
                    if request["app"] is None:
                        return self._json(401, {"message": "A JSON web token could not be decoded",
                                                "documentation_url": "https://docs.github.com/rest"})
                    return await getattr(self, name)(request, *args)
                token = self._token(request)
                if token is None and name in self.PUBLIC_READS and "Authorization" not in request.headers:
                    # Public repositories answer reads without a token (at a lower rate limit).
                    repo = self.repos.get(args[0])
                    if repo is not None and not repo.private:
                        return await getattr(self, name)(request, None, repo, *args[1:])
                if token is None:
                    return self._json(401, {"message": "Bad credentials",
                                            "documentation_url": "https://docs.github.com/rest"})
                if name == "graphql":
                    return await self.graphql(request, token)
                repo = self.repos.get(args[0])
                if repo is None or repo.full_name not in token["repos"]:
                    return self._json(404, NOT_FOUND)
                return await getattr(self, name)(request, token, repo, *args[1:])
        self.violations.append(f"sandbox does not implement {request.method} {request.path}")
        return self._json(404, NOT_FOUND)

    # -- the app ---------------------------------------------------------------------------

    async def get_app(self, request):
        app = request["app"]
        body = contract.example("GET", "/app", 200)
        body.update({"id": app["id"], "slug": app["slug"], "name": app["name"]})
        return self._json(200, body)

    async def convert_manifest(self, request, code):
        """The manifest flow's last step: the code (single use, one hour) for the app's credentials."""
        grant = self.manifest_codes.pop(code, None)
        if grant is None or grant["expires"] < time.time():
            return self._json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        app = self.apps[grant["app"]]
        body = contract.example("POST", "/app-manifests/{code}/conversions", 201)
        body.update({"id": app["id"], "slug": app["slug"], "name": app["name"], "pem": grant["pem"],
                     "webhook_secret": app["webhook_secret"], "client_id": f"Iv1.{secrets.token_hex(8)}",
                     "client_secret": secrets.token_hex(20), "html_url": f"{self.web_url}/apps/{app['slug']}",
                     "permissions": app["manifest"].get("default_permissions", {}),
                     "events": app["manifest"].get("default_events", []),
                     "description": app["manifest"].get("description", "")})
        body["owner"] = self._user(app["owner"], "User")
        return self._json(201, body)

    async def create_token(self, request, installation_id):
        installation = self.installations.get(int(installation_id))
        if installation is None:
            return self._json(404, NOT_FOUND)
        token = "ghs_" + secrets.token_hex(16)
        wanted = (request["json"] or {}).get("repositories")
        repos = [r for r in installation["repos"] if wanted is None or r.split("/")[1] in wanted]
        self.tokens[token] = {"installation": int(installation_id), "expires": time.time() + self.token_ttl,
                              "permissions": installation["permissions"], "repos": repos,
                              "slug": request["app"]["slug"]}  # what the app writes is authored by it
        body = contract.example("POST", "/app/installations/{installation_id}/access_tokens", 201)
        body.update({"token": token, "expires_at": now_iso(self.token_ttl),
                     "permissions": installation["permissions"], "repository_selection": "selected"})
        body.pop("repositories", None)
        return self._json(201, body)

    async def list_deliveries(self, request):
        template = contract.example("GET", "/app/hook/deliveries", 200)[0]
        return self._json(200, [{**template, **d} for d in self.deliveries])

    async def redeliver(self, request, delivery_id):
        self.redelivered.append(int(delivery_id))
        return self._json(202, {})

    async def graphql(self, request, token):
        """Validated against GitHub's GraphQL schema and executed over the repositories this
        token may see (tests/graphql_contract.py); GitHub answers 200 with `errors` for both."""
        body = request["json"] if isinstance(request["json"], dict) else {}

        def visible(full_name: str) -> Repo | None:
            return self.repos.get(full_name) if full_name in token["repos"] else None

        answer, violations = graphql_contract.answer(body.get("query"), body.get("variables"),
                                                     graphql_contract.Query(visible))
        self.violations += violations
        return self._json(200, answer)

    # -- repositories ----------------------------------------------------------------------

    async def get_contents(self, request, token, repo, path):
        commit = repo.resolve(request.query.get("ref") or repo.default_branch)
        files = repo.files_at(commit) if commit else {}
        if path not in files:
            return self._json(404, NOT_FOUND)
        data = files[path]
        if len(data) > MAX_CONTENTS:
            # "1 MB or smaller: all features supported"; larger needs another media type.
            return self._json(403, {**FORBIDDEN, "message": TOO_LARGE, "errors": [
                {"resource": "Blob", "field": "data", "code": "too_large"}]})
        body = contract.example("GET", "/repos/{owner}/{repo}/contents/{path}", 200, "response-if-content-is-a-file")
        body.update({"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
                     "path": path, "content": base64.b64encode(data).decode(), "sha": sha_of(data)})
        return self._json(200, body)

    async def list_jobs(self, request, token, repo, run_id):
        template = contract.example("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", 200)["jobs"][0]
        jobs = []
        for job_id in repo.runs.get(int(run_id), []):
            job = dict(template)
            info = repo.jobs[job_id]
            job.update({"id": job_id, "run_id": int(run_id), "name": info["name"], "conclusion": info["conclusion"],
                        "status": "completed", "head_sha": info["head_sha"], "created_at": now_iso(),
                        "workflow_name": "Docker image", "head_branch": repo.default_branch,
                        "check_run_url": f"{self.base_url}/repos/{repo.full_name}/check-runs/{job_id}"})
            jobs.append(job)
        return self._page(request, jobs, lambda page: {"total_count": len(jobs), "jobs": page})

    def _page(self, request, items: list, body) -> web.Response:
        """One page of a list, as GitHub pages it: ``per_page`` (default 30, at most 100) and
        ``page``, with a ``Link`` header naming the next and last pages."""
        try:
            per_page = min(100, max(1, int(request.query.get("per_page", 30))))
            page = max(1, int(request.query.get("page", 1)))
        except ValueError:
            return self._json(422, validation_failed("Invalid request."))
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, number in (("next", page + 1), ("last", last)):
            if page < last:
                query = dict(request.query, page=str(number))
                links.append(f'<{self.base_url}{request.path}?{urlencode(query)}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else None
        return self._json(200, body(items[(page - 1) * per_page:page * per_page]), headers)

    async def attempt_jobs(self, request, token, repo, run_id, attempt):
        return await self.list_jobs(request, token, repo, run_id)

    async def workflow_runs(self, request, token, repo, workflow_id):
        template = contract.example("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", 200)
        run_template = template["workflow_runs"][0]
        branch = request.query.get("branch")
        runs = []
        for run_id, info in sorted(repo.run_info.items(), reverse=True):
            if info.get("workflow_id") != int(workflow_id) or (branch and info.get("branch") != branch):
                continue
            run = dict(run_template)
            run.update({"id": run_id, "conclusion": info.get("conclusion", "failure"), "status": "completed",
                        "head_branch": info.get("branch"), "workflow_id": int(workflow_id)})
            runs.append(run)
        return self._json(200, {"total_count": len(runs), "workflow_runs": runs})

    async def job_logs(self, request, token, repo, job_id):
        if int(job_id) not in repo.logs:
            return self._json(404, NOT_FOUND)
        response = web.Response(status=302)
        response.headers["Location"] = f"{self.logs_url}/logs/{repo.id}/{job_id}?sig={secrets.token_hex(8)}"
        return response

    async def _serve_log(self, request: web.Request) -> web.StreamResponse:
        if "Authorization" in request.headers:
            # Log storage is another origin with a signed URL: a forwarded token is refused.
            return web.Response(status=403, text="AuthenticationFailed: Authorization header not allowed")
        repo = next((r for r in self.repos.values() if r.id == int(request.match_info["repo_id"])), None)
        data = repo.logs.get(int(request.match_info["job_id"])) if repo else None
        if data is None:
            return web.Response(status=404)
        response = web.StreamResponse()
        response.content_type = "text/plain"
        await response.prepare(request)
        for i in range(0, len(data), 1 << 16):
            await response.write(data[i:i + (1 << 16)])
        await response.write_eof()
        return response

    async def annotations(self, request, token, repo, check_run_id):
        out = []
        for note in repo.annotations.get(int(check_run_id), []):
            out.append({"path": ".github", "start_line": 1, "end_line": 1, "start_column": None,
                        "end_column": None, "annotation_level": note.get("level", "failure"),
                        "title": note.get("title", ""), "message": note["message"], "raw_details": None,
                        "blob_href": f"https://github.com/{repo.full_name}/blob/x"})
        return self._json(200, out)

    def _ref_body(self, repo: Repo, ref: str) -> dict:
        body = contract.example("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 200)
        body.update({"ref": f"refs/{ref}", "node_id": "REF_" + ref,
                     "url": f"{self.base_url}/repos/{repo.full_name}/git/refs/{ref}",
                     "object": {"type": "commit", "sha": repo.refs[ref],
                                "url": f"{self.base_url}/repos/{repo.full_name}/git/commits/{repo.refs[ref]}"}})
        return body

    async def get_ref(self, request, token, repo, ref):
        if ref not in repo.refs:
            return self._json(404, NOT_FOUND)
        return self._json(200, self._ref_body(repo, ref))

    def _tag_object(self, repo: Repo, name: str) -> str:
        """The sha of an annotated tag's own object (distinct from its commit's)."""
        return sha_of(f"tag {repo.full_name} {name}".encode())

    async def matching_refs(self, request, token, repo, ref):
        body = []
        for name in sorted(repo.tags):
            if not f"tags/{name}".startswith(ref):
                continue
            tag = repo.tags[name]
            kind, sha = ("tag", self._tag_object(repo, name)) if tag.get("annotated") else ("commit", tag["commit"])
            item = contract.example("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 200)
            item.update({"ref": f"refs/tags/{name}", "node_id": "REF_tags/" + name,
                         "url": f"{self.base_url}/repos/{repo.full_name}/git/refs/tags/{name}",
                         "object": {"type": kind, "sha": sha,
                                    "url": f"{self.base_url}/repos/{repo.full_name}/git/{kind}s/{sha}"}})
            body.append(item)
        return self._json(200, body)

    async def get_tag(self, request, token, repo, tag_sha):
        for name, tag in repo.tags.items():
            if tag.get("annotated") and self._tag_object(repo, name) == tag_sha:
                body = contract.example("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}", 200)
                body.update({"tag": name, "sha": tag_sha, "node_id": "TAG_" + name,
                             "url": f"{self.base_url}/repos/{repo.full_name}/git/tags/{tag_sha}",
                             "object": {"type": "commit", "sha": tag["commit"],
                                        "url": f"{self.base_url}/repos/{repo.full_name}/git/commits/{tag['commit']}"}})
                return self._json(200, body)
        return self._json(404, NOT_FOUND)

    async def get_tree(self, request, token, repo, tree_sha):
        # GitHub documents "the SHA1 value or ref (branch or tag) name of the tree": a commit SHA
        # is neither.
        ref = next((r for r in (f"heads/{tree_sha}", f"tags/{tree_sha}") if r in repo.refs), None)
        if ref is not None:
            tree_sha = repo.commits[repo.refs[ref]]["tree"]
        tree = repo.trees.get(tree_sha)
        if tree is None:
            return self._json(404, NOT_FOUND)
        entries = [{"path": p, "mode": "100644", "type": "blob", "sha": b, "size": len(repo.blobs[b]),
                    "url": f"{self.base_url}/repos/{repo.full_name}/git/blobs/{b}"} for p, b in sorted(tree.items())]
        return self._json(200, {"sha": tree_sha, "url": f"{self.base_url}/repos/{repo.full_name}/git/trees/{tree_sha}",
                                "tree": entries, "truncated": False})

    async def create_tree(self, request, token, repo):
        body = request["json"]
        base = body.get("base_tree")
        if base is not None and base not in repo.trees:
            # What GitHub answers to a commit SHA (or anything else that is not a tree) here.
            return self._json(422, validation_failed("base_tree is not a valid tree oid",
                                                     "git/trees#create-a-tree"))
        files = dict(repo.trees.get(base, {}))
        for entry in body["tree"]:
            if entry.get("sha") is None and "content" not in entry:
                files.pop(entry["path"], None)
                continue
            if "content" not in entry and entry["sha"] not in repo.blobs:
                return self._json(422, validation_failed(f"tree.sha {entry['sha']} is not a valid blob",
                                                         "git/trees#create-a-tree"))
            data = entry["content"].encode() if "content" in entry else repo.blobs[entry["sha"]]
            blob = sha_of(data)
            repo.blobs[blob] = data
            files[entry["path"]] = blob
        tree_sha = sha_of(json.dumps(sorted(files.items())).encode())
        repo.trees[tree_sha] = files
        return self._json(201, {"sha": tree_sha, "url": f"{self.base_url}/repos/{repo.full_name}/git/trees/{tree_sha}",
                                "truncated": False,
                                "tree": [{"path": p, "mode": "100644", "type": "blob", "sha": b, "size": len(repo.blobs[b]),
                                          "url": f"{self.base_url}/x"} for p, b in sorted(files.items())]})

    async def create_commit(self, request, token, repo):
        body = request["json"]
        if body["tree"] not in repo.trees:
            return self._json(422, validation_failed(f"Tree SHA {body['tree']} is not a tree object",
                                                     "git/commits#create-a-commit"))
        if any(p not in repo.commits for p in body.get("parents", [])):
            return self._json(422, validation_failed("Parent SHA does not exist or is not a commit object",
                                                     "git/commits#create-a-commit"))
        custom = "author" in body or "committer" in body
        sha = sha_of(f"{body['tree']}{body.get('parents')}{body['message']}{time.time()}".encode())
        # A commit the API makes for an app, with no author of its own, is signed by GitHub.
        repo.commits[sha] = {"tree": body["tree"], "parents": body.get("parents", []), "message": body["message"],
                             "verified": not custom, "author": body.get("author")}
        response = contract.example("POST", "/repos/{owner}/{repo}/git/commits", 201)
        response.update({"sha": sha, "message": body["message"],
                         "tree": {"sha": body["tree"], "url": f"{self.base_url}/x"},
                         "parents": [{"sha": p, "url": f"{self.base_url}/x", "html_url": "https://github.com/x"}
                                     for p in body.get("parents", [])],
                         "verification": {"verified": not custom, "reason": "valid" if not custom else "unsigned",
                                          "signature": None, "payload": None, "verified_at": None}})
        return self._json(201, response)

    def _touches_workflows(self, repo: Repo, commit: str, old: str | None) -> bool:
        new_files = repo.trees[repo.commits[commit]["tree"]]
        old_files = repo.trees[repo.commits[old]["tree"]] if old else {}
        changed = {p for p in set(new_files) | set(old_files) if new_files.get(p) != old_files.get(p)}
        return any(p.startswith(".github/workflows/") for p in changed)

    def _workflows_denied(self, token: dict, repo: Repo, sha: str, old: str | None) -> bool:
        parent = old or (repo.commits[sha]["parents"] or [None])[0]
        return token["permissions"].get("workflows") != "write" and self._touches_workflows(repo, sha, parent)

    async def create_ref(self, request, token, repo):
        body = request["json"]
        if not body["ref"].startswith("refs/") or body["ref"].count("/") < 2:
            # "If it doesn't start with 'refs' and have at least two slashes, it will be rejected."
            return self._json(422, validation_failed("Reference name must start with 'refs/' and have at least "
                                                     "two slashes", "git/refs#create-a-reference"))
        ref = body["ref"].removeprefix("refs/")
        if ref in repo.refs:
            return self._json(422, validation_failed("Reference already exists", "git/refs#create-a-reference"))
        if body["sha"] not in repo.commits:
            return self._json(422, validation_failed("Object does not exist", "git/refs#create-a-reference"))
        if self._workflows_denied(token, repo, body["sha"], None):
            return self._json(403, FORBIDDEN)
        repo.refs[ref] = body["sha"]
        return self._json(201, self._ref_body(repo, ref))

    async def update_ref(self, request, token, repo, ref):
        body = request["json"]
        if ref not in repo.refs:
            return self._json(422, validation_failed("Reference does not exist", "git/refs"))
        old = repo.refs[ref]
        if not body.get("force") and old not in self._ancestors(repo, body["sha"]):
            return self._json(422, validation_failed("Update is not a fast forward", "git/refs#update-a-reference"))
        if self._workflows_denied(token, repo, body["sha"], repo.refs.get(f"heads/{repo.default_branch}")):
            return self._json(403, FORBIDDEN)
        repo.refs[ref] = body["sha"]
        return self._json(200, self._ref_body(repo, ref))

    async def delete_ref(self, request, token, repo, ref):
        if repo.refs.pop(ref, None) is None:
            return self._json(422, validation_failed("Reference does not exist", "git/refs"))
        return web.Response(status=204)

    def _ancestors(self, repo: Repo, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            current = todo.pop()
            if current in seen or current not in repo.commits:
                continue
            seen.add(current)
            todo += repo.commits[current]["parents"]
        return seen

    def _user(self, login: str, kind: str = "Bot") -> dict:
        user = contract.example("GET", "/app", 200)["owner"]
        user.update({"login": login, "type": kind, "id": abs(hash(login)) % 10**6})
        return user

    def _pull_body(self, repo: Repo, number: int) -> dict:
        issue = repo.issues[number]
        body = contract.example("POST", "/repos/{owner}/{repo}/pulls", 201)
        merged = bool(issue.get("merged"))
        body.update({"number": number, "id": 10**6 + number, "title": issue["title"], "body": issue["body"],
                     "state": issue["state"], "user": self._user(issue["user"]),
                     "html_url": f"https://github.com/{repo.full_name}/pull/{number}",
                     "labels": [repo.labels[name] for name in issue["labels"]], "merged": merged,
                     "merged_at": now_iso() if merged else None,
                     "closed_at": now_iso() if issue["state"] == "closed" else None, "draft": False})
        body["head"].update({"ref": issue["head"], "sha": repo.refs.get(f"heads/{issue['head']}", "0" * 40),
                             "label": f"{repo.owner}:{issue['head']}"})
        body["base"].update({"ref": issue["base"], "label": f"{repo.owner}:{issue['base']}"})
        for side in ("head", "base"):
            for key in ("user",):
                body[side][key] = self._user(repo.owner, "Organization")
            if body[side].get("repo"):
                body[side]["repo"]["owner"] = self._user(repo.owner, "Organization")
        body["requested_reviewers"] = []
        body["assignees"] = []
        body["assignee"] = None
        body["merged_by"] = None
        body["milestone"] = None
        body["requested_teams"] = []
        return body

    async def list_pulls(self, request, token, repo):
        head = request.query.get("head")
        state = request.query.get("state", "open")
        out = []
        for number, issue in sorted(repo.issues.items()):
            if not issue.get("pull"):
                continue
            if head and f"{repo.owner}:{issue['head']}" != head:
                continue
            if state != "all" and issue["state"] != state:
                continue
            body = self._pull_body(repo, number)
            for key in ("merged", "mergeable", "rebaseable", "mergeable_state", "comments", "review_comments",
                        "maintainer_can_modify", "commits", "additions", "deletions", "changed_files"):
                body.pop(key, None)
            out.append(body)
        return self._json(200, out)

    async def create_pull(self, request, token, repo):
        body = request["json"]
        doc = "pulls/pulls#create-a-pull-request"
        head_owner, _, head = body["head"].rpartition(":")
        if head_owner in ("", repo.owner):  # a branch of this repository
            body = {**body, "head": head}
            if body.get("maintainer_can_modify"):
                return self._json(422, FORK_COLLAB)
        if f"heads/{body['head']}" not in repo.refs or f"heads/{body['base']}" not in repo.refs:
            field_name = "head" if f"heads/{body['head']}" not in repo.refs else "base"
            return self._json(422, validation_failed("Validation Failed", doc, [
                {"resource": "PullRequest", "field": field_name, "code": "invalid"}]))
        if any(i.get("pull") and i["head"] == body["head"] and i["state"] == "open" for i in repo.issues.values()):
            return self._json(422, validation_failed("Validation Failed", doc, [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"A pull request already exists for {repo.owner}:{body['head']}."}]))
        number = len(repo.issues) + 1
        repo.issues[number] = {"pull": True, "title": body["title"], "body": body.get("body") or "",
                               "head": body["head"], "base": body["base"], "state": "open",
                               "user": f"{token['slug']}[bot]", "labels": []}
        return self._json(201, self._pull_body(repo, number))

    async def update_pull(self, request, token, repo, number):
        issue = repo.issues.get(int(number))
        if issue is None or not issue.get("pull"):
            return self._json(404, NOT_FOUND)
        if (request["json"] or {}).get("maintainer_can_modify"):
            return self._json(422, FORK_COLLAB)  # the sandbox's pull requests are all same-repository
        for key in ("title", "body", "state"):
            if key in (request["json"] or {}):
                issue[key] = request["json"][key]
        body = self._pull_body(repo, int(number))
        return self._json(200, body)

    def _label(self, repo: Repo, name: str) -> dict:
        if name not in repo.labels:
            repo.labels[name] = {"id": next(self._ids), "node_id": f"L_{name}", "name": name, "color": "ededed",
                                 "default": False, "description": "",
                                 "url": f"{self.base_url}/repos/{repo.full_name}/labels/{name}"}
        return repo.labels[name]

    async def add_labels(self, request, token, repo, number):
        issue = repo.issues.get(int(number))
        if issue is None:
            return self._json(404, NOT_FOUND)
        names = request["json"]["labels"] if isinstance(request["json"], dict) else request["json"]
        names = [n if isinstance(n, str) else n["name"] for n in names]
        for name in names:
            self._label(repo, name)  # adding an unknown label creates it, as GitHub does
            if name not in issue["labels"]:
                issue["labels"].append(name)
        return self._json(200, [repo.labels[n] for n in issue["labels"]])

    def _comment_body(self, repo: Repo, comment_id: int) -> dict:
        comment = repo.comments[comment_id]
        body = contract.example("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 201)
        body.update({"id": comment_id, "body": comment["body"], "user": self._user(comment["user"]),
                     "html_url": f"https://github.com/{repo.full_name}/issues/{comment['issue']}#issuecomment-{comment_id}"})
        return body

    async def list_comments(self, request, token, repo, number):
        return self._json(200, [self._comment_body(repo, c) for c, v in sorted(repo.comments.items())
                                if v["issue"] == int(number)])

    async def create_comment(self, request, token, repo, number):
        if int(number) not in repo.issues:
            return self._json(404, NOT_FOUND)
        comment_id = next(self._ids)
        repo.comments[comment_id] = {"issue": int(number), "body": request["json"]["body"], "user": f"{token['slug']}[bot]"}
        return self._json(201, self._comment_body(repo, comment_id))

    async def update_comment(self, request, token, repo, comment_id):
        if int(comment_id) not in repo.comments:
            return self._json(404, NOT_FOUND)
        repo.comments[int(comment_id)]["body"] = request["json"]["body"]
        return self._json(200, self._comment_body(repo, int(comment_id)))

    def _issue_body(self, repo: Repo, number: int) -> dict:
        issue = repo.issues[number]
        body = contract.example("POST", "/repos/{owner}/{repo}/issues", 201)
        body.update({"number": number, "id": 2 * 10**6 + number, "title": issue["title"], "body": issue["body"],
                     "state": issue["state"], "user": self._user(issue["user"]),
                     "labels": [repo.labels[n] for n in issue["labels"]], "assignee": None, "assignees": [],
                     "milestone": None, "closed_by": None,
                     "html_url": f"https://github.com/{repo.full_name}/issues/{number}"})
        body.pop("pull_request", None)
        if issue.get("pull"):  # "every pull request is an issue": marked by its pull_request key
            body["pull_request"] = {"url": f"{self.base_url}/repos/{repo.full_name}/pulls/{number}",
                                    "html_url": f"https://github.com/{repo.full_name}/pull/{number}",
                                    "diff_url": f"https://github.com/{repo.full_name}/pull/{number}.diff",
                                    "patch_url": f"https://github.com/{repo.full_name}/pull/{number}.patch",
                                    "merged_at": now_iso() if issue.get("merged") else None}
        return body

    async def list_issues(self, request, token, repo):
        creator = request.query.get("creator")
        state = request.query.get("state", "open")
        # Pull requests too, as GitHub lists them.
        out = [self._issue_body(repo, n) for n, i in sorted(repo.issues.items())
               if (state == "all" or i["state"] == state) and (creator is None or i["user"] == creator)]
        return self._json(200, out)

    async def create_issue(self, request, token, repo):
        body = request["json"]
        number = len(repo.issues) + 1
        repo.issues[number] = {"title": body["title"], "body": body.get("body") or "", "state": "open",
                               "user": f"{token['slug']}[bot]", "labels": []}
        for name in body.get("labels") or []:
            self._label(repo, name if isinstance(name, str) else name["name"])
            repo.issues[number]["labels"].append(name if isinstance(name, str) else name["name"])
        return self._json(201, self._issue_body(repo, number))

    async def update_issue(self, request, token, repo, number):
        issue = repo.issues.get(int(number))
        if issue is None:
            return self._json(404, NOT_FOUND)
        for key in ("title", "body", "state"):
            if key in (request["json"] or {}):
                issue[key] = request["json"][key]
        return self._json(200, self._issue_body(repo, int(number)))

    async def react(self, request, token, repo, comment_id):
        comment = repo.comments.get(int(comment_id))
        if comment is None:
            return self._json(404, NOT_FOUND)
        comment.setdefault("reactions", []).append(request["json"]["content"])
        body = contract.example("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", 201)
        body.update({"content": request["json"]["content"], "user": self._user(f"{token['slug']}[bot]")})
        return self._json(201, body)

    async def collaborator_permission(self, request, token, repo, username):
        permission = repo.permissions.get(username)
        if permission is None:
            return self._json(404, NOT_FOUND)
        body = contract.example("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", 200)
        user = self._user(username, "User")
        user.update({"role_name": permission, "permissions": {"admin": permission == "admin", "maintain": permission in (
            "admin", "maintain"), "push": permission in ("admin", "maintain", "write"), "triage": True, "pull": True}})
        # `permission` is the legacy base role: maintain reads as write, triage as read.
        legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
        body.update({"permission": legacy, "role_name": permission, "user": user})
        return self._json(200, body)

    # -- the sandbox's own endpoints -------------------------------------------------------

    async def state(self, request):
        repos = {}
        for name, repo in self.repos.items():
            repos[name] = {
                "refs": repo.refs,
                "issues": {n: {k: v for k, v in i.items()} for n, i in repo.issues.items()},
                "comments": repo.comments,
                "labels": sorted(repo.labels),
                "commits": {s: {k: v for k, v in c.items()} for s, c in repo.commits.items()},
                "files": {ref: {p: d.decode("utf-8", "replace") for p, d in repo.files_at(sha).items()}
                          for ref, sha in repo.refs.items()},
            }
        apps = [{k: v for k, v in app.items() if k in ("id", "slug", "name", "owner", "manifest")}
                for app in self.apps.values()]
        return web.json_response({"repos": repos, "calls": self.calls, "violations": self.violations,
                                  "redelivered": self.redelivered, "tokens": sorted(self.tokens), "apps": apps,
                                  "manifest_posts": self.manifest_posts})

    def _human(self, act: dict) -> None:
        """What people do on GitHub: close or merge a pull request, push to a branch, comment."""
        repo = self.repos[act["repo"]]
        if act["do"] in ("close", "merge"):
            issue = repo.issues[act["number"]]
            issue["state"] = "closed"
            if act["do"] == "merge":
                issue["merged"] = True
                repo.refs[f"heads/{issue['base']}"] = repo.refs[f"heads/{issue['head']}"]
        elif act["do"] == "push":
            ref = f"heads/{act['branch']}"
            files = {**repo.files_at(repo.refs[ref]), **{p: t.encode() for p, t in act["files"].items()}}
            sha = repo.commit(files, [repo.refs[ref]], act.get("message", "a human's commit"))
            repo.commits[sha]["author"] = {"name": act.get("user", "octocat")}
            repo.refs[ref] = sha
        elif act["do"] == "comment":
            comment_id = next(self._ids)
            repo.comments[comment_id] = {"issue": act["number"], "body": act["body"], "user": act["user"]}
            act["id"] = comment_id

    async def setup(self, request):
        """Set the sandbox up from a JSON description (for the separate-process mode)."""
        spec = await request.json()
        for inst in spec.get("installations", []):
            self.add_installation(inst["id"], inst["account"], inst["permissions"], inst["repos"])
        for repo in spec.get("repos", []):
            added = self.add_repo(repo["full_name"], repo["files"], repo.get("default_branch", "main"),
                                  repo.get("private", False), repo.get("collaborators"))
            added.tags.update(repo.get("tags", {}))
            added.blob_text_limit = repo.get("blob_text_limit")
        for pull in spec.get("pulls", []):
            repo = self.repos[pull["repo"]]
            base = repo.refs[f"heads/{repo.default_branch}"]
            files = {**repo.files_at(base), **{p: t.encode() for p, t in pull.get("files", {}).items()}}
            repo.refs[f"heads/{pull['head']}"] = repo.commit(files, [base], "a contributor's change")
            number = len(repo.issues) + 1
            repo.issues[number] = {"pull": True, "title": pull.get("title", "A change"), "body": "",
                                   "head": pull["head"], "base": repo.default_branch, "state": "open",
                                   "user": pull.get("user", "contributor"), "labels": []}
        for grant in spec.get("collaborators", []):
            self.repos[grant["repo"]].permissions[grant["login"]] = grant["permission"]
        for act in spec.get("actions", []):
            self._human(act)
        for run in spec.get("runs", []):
            self.add_run(run["repo"], run["run_id"], [
                dict(job, log=base64.b64decode(job["log_b64"])) for job in run["jobs"]], run.get("info"))
        self.faults += spec.get("faults", [])
        self.deliveries += spec.get("deliveries", [])
        self.latency = spec.get("latency", self.latency)
        if spec.get("reset_calls"):
            self.calls.clear()
        if spec.get("clear_violations"):
            self.violations.clear()
        return web.json_response({"ok": True, "comments": [a.get("id") for a in spec.get("actions", [])]})


async def _serve(args) -> None:
    with open(args.app_key) as handle:
        sandbox = Sandbox(handle.read(), app_id=args.app_id, token_ttl=args.token_ttl)
    # Load GitHub's descriptions before saying "ready" (about 2 s on 2 cores): no request the
    # app sends pays for it, and no test's timing depends on being first.
    contract.spec()
    graphql_contract.schema()
    await sandbox.start(port=args.port, logs_port=args.logs_port)
    print(json.dumps({"base_url": sandbox.base_url, "logs_url": sandbox.logs_url, "web_url": sandbox.web_url}),
          flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="GitHub sandbox for docker-build-fixer's tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--logs-port", type=int, default=0)
    parser.add_argument("--app-key", required=True, help="the app's public key (PEM file)")
    parser.add_argument("--app-id", type=int, default=4242)
    parser.add_argument("--token-ttl", type=float, default=3600)
    try:
        asyncio.run(_serve(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
