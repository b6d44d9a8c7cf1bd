"""The web app: ``POST /webhooks``, ``GET /healthz``, ``GET /metrics``, the pages (``GET /``: the
setup page until the app is registered, then the status page).

A delivery is verified (HMAC-SHA256, constant time, in gidgethub), stored in the queue
(queue.py), and answered 202 at once; a worker processes stored jobs with bounded concurrency,
one job at a time per repository and a cap per installation: in this process on SQLite
(local_queue.py), in ``python -m bot worker`` processes on PostgreSQL (postgres.py).
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import signal
import time
from dataclasses import replace
from datetime import datetime

import aiohttp
import orjson
from aiohttp import web
from gidgethub import ValidationFailure, sansio

from ..github.api import CountingGitHubAPI, RepoAPI
from ..github.auth import AppAuth, InstallationToken
from ..settings import Secret, Settings
from .events import EVENTS
from .logs import setup_logging
from .metrics import Metrics
from .queue import Queue, make_queue
from .web import APP_KEY, setup, status

log = logging.getLogger("docker-build-fixer")

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
ACCEPTED = b'{"message": "accepted"}'
ALREADY_RECEIVED = b'{"message": "already received"}'
SWEEP_SECONDS = float(os.environ.get("REDELIVERY_SWEEP_SECONDS", "600"))
# Finished deliveries are kept this long (the status page, and knowing a delivery again), then
# pruned by the sweep. Never under GitHub's three-day redelivery window: a delivery forgotten
# within it could be asked for and processed twice.
RETENTION_DAYS = max(4.0, float(os.environ.get("DELIVERY_RETENTION_DAYS", "30")))
DEFAULT_HANDLE = "docker-build-fixer"


class App:
    """What the handlers share: settings, the HTTP session, auth, the queue, metrics."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.auth = AppAuth(settings)
        self.metrics = Metrics()
        self.queue: Queue = make_queue(self, settings)
        self.session: aiohttp.ClientSession | None = None
        self.handle = DEFAULT_HANDLE
        self.write_locks: dict[int, asyncio.Lock] = {}  # writes go one at a time per installation

    @property
    def store(self):
        """The embedded SQLite store (None on PostgreSQL)."""
        return getattr(self.queue, "store", None)

    @property
    def running(self) -> int:
        return self.queue.running_count()

    def gh(self, token: InstallationToken | None = None, installation: int | None = None) -> CountingGitHubAPI:
        oauth = {"oauth_token": token.token.reveal()} if token else {}
        lock = self.write_locks.setdefault(installation, asyncio.Lock()) if installation is not None else None
        return CountingGitHubAPI(self.session, self.settings, self.metrics.github_calls, lock, **oauth)

    async def repo_api(self, installation_id: int, repo: str) -> tuple[RepoAPI, InstallationToken]:
        token = await self.auth.token(self.gh(), installation_id, repo)
        api = RepoAPI(self.gh(token, installation_id), self.session, self.settings, repo, token.token)
        return api, token

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=120))
        try:
            await self.queue.start()
        except BaseException:
            await self.session.close()
            raise
        if self.settings.configured:
            self.queue.start_working()
        else:
            log.info("not registered yet: the setup page is at /")

    def configure(self, app_id: int, private_key: Secret, webhook_secret: Secret) -> None:
        """Take the credentials the manifest flow handed over and start serving webhooks with
        them, without a restart (on PostgreSQL, the workers read them when they start)."""
        self.settings = replace(self.settings, app_id=str(app_id), private_key=private_key,
                                webhook_secret=webhook_secret)
        self.auth = AppAuth(self.settings)
        if self.session is not None:
            self.queue.start_working()

    async def stop(self) -> None:
        if self.session is None or self.session.closed:
            return
        log.info("stopping", extra={"detail": f"{self.running} running job(s) stay stored"})
        await self.queue.stop()
        await self.session.close()

    # -- redelivery -------------------------------------------------------------------------

    async def sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            await self.sweep_logged()

    async def sweep_logged(self) -> None:
        try:
            await self.sweep()
        except Exception as exc:  # GitHub down: the next sweep tries again
            log.warning("redelivery sweep failed", extra={"detail": f"{type(exc).__name__}: {exc}"})
        try:
            pruned = await self.queue.prune(time.time() - RETENTION_DAYS * 86400)
        except Exception as exc:  # the database away for a moment: the next sweep prunes
            log.warning("pruning finished deliveries failed", extra={"detail": f"{type(exc).__name__}: {exc}"})
        else:
            if pruned:
                log.info("pruned finished deliveries", extra={"detail": f"{pruned} older than {RETENTION_DAYS:g} days"})

    async def sweep(self) -> list[int]:
        """GitHub's documented procedure: list the app's deliveries of the last three days and ask
        again for those that never succeeded (and that this app never stored)."""
        gh, jwt = self.gh(), self.auth.jwt()
        since = time.time() - 3 * 24 * 3600
        attempts: dict[str, list[dict]] = {}
        async for delivery in gh.getiter("/app/hook/deliveries?per_page=100", jwt=jwt):
            delivered = datetime.fromisoformat(str(delivery.get("delivered_at")).replace("Z", "+00:00")).timestamp()
            if delivered < since:
                break  # newest first: the rest is older
            attempts.setdefault(delivery["guid"], []).append(delivery)
        redelivered = []
        for guid, tries in attempts.items():
            if any(200 <= (t.get("status_code") or 0) < 300 for t in tries) or await self.queue.seen(guid):
                continue
            latest = max(tries, key=lambda t: t.get("delivered_at") or "")
            await gh.post(f"/app/hook/deliveries/{latest['id']}/attempts", data=b"", jwt=jwt)
            redelivered.append(latest["id"])
        if redelivered:
            log.info("asked GitHub to redeliver", extra={"detail": f"{len(redelivered)} failed deliveries"})
        return redelivered

    async def read_handle(self) -> None:
        """The app's slug is its @handle for commands (GET /app); GitHub being unreachable at start
        must not keep the server from accepting deliveries."""
        try:
            data = await self.gh().getitem("/app", jwt=self.auth.jwt())
            self.handle = data.get("slug") or DEFAULT_HANDLE
        except Exception as exc:
            log.warning("could not read the app's slug; using the default", extra={"detail": type(exc).__name__})


def _reply(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


async def webhook(request: web.Request) -> web.Response:
    """Whatever goes wrong, the client gets a short JSON error, never a traceback."""
    try:
        return await _webhook(request)
    except web.HTTPException as exc:
        return _reply(exc.status, exc.reason)
    except Exception as exc:
        log.error("request error", extra={"detail": f"{type(exc).__name__}: {exc}"})
        return _reply(500, "internal error")


async def _webhook(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    if app.settings.webhook_secret is None:
        return _reply(503, "this app is not registered yet: open / to set it up")
    if (request.content_length or 0) > MAX_BODY:
        app.metrics.inc("dbf_deliveries_total", event="unknown", outcome="too-large")
        return _reply(413, "payload over 25 MB")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        app.metrics.inc("dbf_deliveries_total", event="unknown", outcome="too-large")
        return _reply(413, "payload over 25 MB")
    name = request.headers.get("X-GitHub-Event", "unknown")
    if "X-Hub-Signature-256" not in request.headers:
        app.metrics.inc("dbf_deliveries_total", event=name, outcome="unsigned")
        log.warning("delivery without signature", extra={"event": name})
        return _reply(401, "X-Hub-Signature-256 is required")
    try:
        # gidgethub's check: HMAC-SHA256 of the raw body, compared in constant time.
        sansio.validate_event(body, signature=request.headers["X-Hub-Signature-256"],
                              secret=app.settings.webhook_secret.reveal())
    except ValidationFailure:
        app.metrics.inc("dbf_deliveries_total", event=name, outcome="bad-signature")
        log.warning("delivery with a bad signature", extra={"event": name})
        return _reply(401, "signature does not match")
    if request.content_type != "application/json":
        app.metrics.inc("dbf_deliveries_total", event=name, outcome="bad-request")
        return _reply(415, "webhook payloads must be application/json")
    delivery = request.headers.get("X-GitHub-Delivery")
    if not delivery or "X-GitHub-Event" not in request.headers:
        app.metrics.inc("dbf_deliveries_total", event=name, outcome="bad-request")
        return _reply(400, "X-GitHub-Event and X-GitHub-Delivery are required")
    try:
        # orjson: a 20 KB payload parses several times faster than with json, on the hot path.
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        app.metrics.inc("dbf_deliveries_total", event=name, outcome="bad-request")
        log.warning("malformed delivery", extra={"event": name})
        return _reply(400, "the body is not valid JSON")
    if not isinstance(data, dict):
        return _reply(400, "the payload is not a JSON object")
    event = sansio.Event(data, event=name, delivery_id=delivery)
    if event.event == "ping":
        return _reply(200, "pong")
    if event.event not in EVENTS:
        app.metrics.inc("dbf_deliveries_total", event=event.event, outcome="unsupported")
        log.info("unsupported event", extra={"event": event.event, "delivery": event.delivery_id})
        return _reply(400, f"event {event.event} is not handled by this app")
    stored = await app.queue.store_delivery(event.delivery_id, event.event, event.data, body)
    app.metrics.inc("dbf_deliveries_total", event=event.event, outcome="accepted" if stored else "duplicate")
    return web.Response(status=202, body=ACCEPTED if stored else ALREADY_RECEIVED, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    return web.json_response({"status": "ok" if app.settings.configured else "setup",
                              "jobs": await app.queue.counts(), "running": app.running})


async def metrics(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    counts = await app.queue.counts()
    gauges = {f"dbf_jobs_{status}": counts.get(status, 0) for status in ("pending", "running", "done")}
    return web.Response(text=app.metrics.render(gauges), content_type="text/plain")


async def index(request: web.Request) -> web.StreamResponse:
    """Until the app is registered, the setup page; then the status page."""
    app: App = request.app[APP_KEY]
    return await (status.page(request) if app.settings.configured else setup.page(request))


def create_app(settings: Settings) -> web.Application:
    # No middleware on the hot path: the webhook handler catches its own errors, and
    # /healthz and /metrics only read counters.
    web_app = web.Application(client_max_size=MAX_BODY)
    app = App(settings)
    web_app[APP_KEY] = app
    web_app[setup.FLOW_KEY] = setup.SetupFlow()
    web_app.router.add_post("/webhooks", webhook)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    # The pages: server-rendered HTML, in bot/app/web/.
    web_app.router.add_get("/", index)
    web_app.router.add_get(setup.CALLBACK, setup.callback)
    web_app.router.add_get(status.LOGIN, status.login_page)
    web_app.router.add_post(status.LOGIN, status.login)
    web_app.router.add_post(status.LOGOUT, status.logout)

    async def on_startup(_):
        await app.start()

    async def on_cleanup(_):
        await app.stop()

    web_app.on_startup.append(on_startup)
    # On SIGTERM the worker stops first (on_shutdown runs before aiohttp waits for open
    # connections): jobs not finished stay stored and resume at the next start.
    web_app.on_shutdown.append(on_cleanup)
    return web_app


def serve(settings: Settings) -> None:
    setup_logging()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack to stderr
    use_uvloop()
    state = "PostgreSQL (jobs run in `python -m bot worker`)" if settings.database_url else settings.state_path
    log.info("starting", extra={"detail": f"port {settings.port}, api {settings.api_url}, "
                                          f"dry run {settings.dry_run}, state {state}"})
    # On PostgreSQL several web processes may share one port on a host (SO_REUSEPORT: the
    # kernel spreads connections); on SQLite a second process must fail to bind, not share a file.
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None,
                print=None, shutdown_timeout=5, reuse_port=settings.database_url is not None)



def use_uvloop() -> None:
    try:
        # libuv's event loop: markedly more acknowledgements per second than asyncio's own.
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # not on every platform
        pass
