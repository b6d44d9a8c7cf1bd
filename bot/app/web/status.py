"""The status page for operators: the last deliveries and jobs, the queue, failures by reason
and the installation count, from the job store. Off unless STATUS_TOKEN is set; then the token
is required, as ``Authorization: Bearer`` or through a login form that sets an HttpOnly cookie.
An anonymous visitor sees a login form and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timezone

from aiohttp import web

from ...settings import Secret
from . import APP_KEY, guarded, not_found, render

LOGIN = "/login"
LOGOUT = "/logout"
COOKIE = "dbf_status"
SESSION_SECONDS = 12 * 3600
RECENT = 50
FAILURE_WINDOW = 24 * 3600


def _session(token: Secret, issued: int) -> str:
    """A cookie value derived from the token (the cookie never holds the token itself); it
    expires, and changing STATUS_TOKEN ends every session."""
    mac = hmac.new(token.reveal().encode(), f"docker-build-fixer status {issued}".encode(), hashlib.sha256)
    return f"{issued}.{mac.hexdigest()}"


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())  # constant time


def authorised(request: web.Request, token: Secret) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return _same(value.strip(), token.reveal())
    issued, _, _ = request.cookies.get(COOKIE, "").partition(".")
    if not issued.isdigit() or time.time() - int(issued) > SESSION_SECONDS:
        return False
    return _same(request.cookies[COOKIE], _session(token, int(issued)))


def login_form(request: web.Request, wrong: bool = False) -> web.Response:
    response = render("login.html", status=401, wrong=wrong)
    response.headers["WWW-Authenticate"] = 'Bearer realm="docker-build-fixer status"'
    return response


@guarded
async def page(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    token = app.settings.status_token
    if token is None:
        return not_found()
    if not authorised(request, token):
        return login_form(request)
    # Through the queue interface: the embedded SQLite store, or PostgreSQL with every worker.
    queue, now = app.queue, time.time()
    counts = await queue.counts()
    web_url = app.settings.github_web_url
    rows = [_row(job, web_url) for job in await queue.recent(RECENT)]
    return render("status.html", rows=rows, pending=counts.get("pending", 0), running=counts.get("running", 0),
                  done=counts.get("done", 0), installations=await queue.installation_count(),
                  failures=await queue.failures_by_reason(since=now - FAILURE_WINDOW),
                  dry_run=app.settings.dry_run, handle=app.handle, generated=_when(now))


def _row(job, web_url: str) -> dict:
    outcome = job.outcome or job.status
    if job.status == "running":
        outcome = "running"
    elif job.status == "pending" and not job.outcome:
        outcome = "queued"
    pull_url = f"{web_url}/{job.repo}/pull/{job.pull}" if job.pull and job.repo else ""
    return {"when": _when(job.received), "repo": job.repo or "", "event": job.event, "outcome": outcome,
            "kind": _kind(outcome), "pull": job.pull, "pull_url": pull_url, "detail": job.detail or "",
            "attempts": job.attempts}


def _kind(outcome: str) -> str:
    """How an outcome is coloured: good news, bad news, or neither."""
    if outcome in ("pull-request", "verified", "comment"):
        return "good"
    if outcome in ("failed", "error", "gave-up", "attention", "retrying"):
        return "bad"
    return "plain"


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@guarded
async def login_page(request: web.Request) -> web.Response:
    if request.app[APP_KEY].settings.status_token is None:
        return not_found()
    return login_form(request)


@guarded
async def login(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    token = app.settings.status_token
    if token is None:
        return not_found()
    form = await request.post()
    given = form.get("token")
    if not isinstance(given, str) or not _same(given.strip(), token.reveal()):
        return login_form(request, wrong=True)
    response = web.Response(status=303, headers={"Location": "/"})
    secure = request.scheme == "https" or app.settings.public_url.startswith("https://")
    response.set_cookie(COOKIE, _session(token, int(time.time())), max_age=SESSION_SECONDS, path="/",
                        httponly=True, samesite="Strict", secure=secure)
    return response


@guarded
async def logout(request: web.Request) -> web.Response:
    if request.app[APP_KEY].settings.status_token is None:
        return not_found()
    response = web.Response(status=303, headers={"Location": "/"})
    response.del_cookie(COOKIE, path="/")
    return response
