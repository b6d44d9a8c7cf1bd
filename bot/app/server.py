"""The web app: ``POST /webhooks``, ``GET /healthz``, ``GET /metrics``, the pages (``GET /``: the
setup page until the app is registered, then the status page), and the worker.

A delivery is verified (HMAC-SHA256, constant time, in gidgethub), stored, and answered 202
at once; the worker processes stored jobs in the background with bounded concurrency, one job
at a time per repository and a cap per installation.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import signal
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime

import aiohttp
import orjson
from aiohttp import web
from gidgethub import BadRequest, GitHubBroken, ValidationFailure, sansio

from ..github.api import CountingGitHubAPI, RepoAPI
from ..github.auth import AppAuth, InstallationToken
from ..settings import Secret, Settings
from .events import EVENTS, router
from .logs import setup_logging
from .metrics import Metrics
from .pipeline import Outcome
from .store import JobStore
from .web import APP_KEY, setup, status

log = logging.getLogger("docker-build-fixer")

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
CONCURRENCY = 8
PER_INSTALLATION = 2  # so that one busy installation cannot starve the others
MAX_ATTEMPTS = 5
ACCEPTED = b'{"message": "accepted"}'
ALREADY_RECEIVED = b'{"message": "already received"}'
BUSY_INGRESS = 0.05  # seconds since the last delivery during which the worker holds back
SWEEP_SECONDS = float(os.environ.get("REDELIVERY_SWEEP_SECONDS", "600"))
DEFAULT_HANDLE = "docker-build-fixer"


class App:
    """What the handlers share: settings, the HTTP session, auth, the store, metrics."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.auth = AppAuth(settings)
        self.metrics = Metrics()
        self.store = JobStore(settings.state_path)
        self.session: aiohttp.ClientSession | None = None
        self.handle = DEFAULT_HANDLE
        self.wake = asyncio.Event()
        self.stopping = False
        self.batch: list = []
        self.last_delivery = 0.0
        self.last_claim = 0.0
        self.worker: asyncio.Task | None = None
        self.sweeper: asyncio.Task | None = None
        self.checkpointer: asyncio.Task | None = None
        self.running: dict[str, asyncio.Task] = {}  # delivery -> task
        self.running_jobs: dict[str, tuple] = {}  # delivery -> (installation, repository)
        self.write_locks: dict[int, asyncio.Lock] = {}  # writes go one at a time per installation

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
        self.checkpointer = asyncio.create_task(self._checkpoint_forever())
        if self.settings.configured:
            self._start_working()
        else:
            log.info("not registered yet: the setup page is at /")

    def _start_working(self) -> None:
        self.worker = asyncio.create_task(self._work())
        self.sweeper = asyncio.create_task(self._sweep_forever())

    def configure(self, app_id: int, private_key: Secret, webhook_secret: Secret) -> None:
        """Take the credentials the manifest flow handed over and start serving webhooks with
        them, without a restart."""
        self.settings = replace(self.settings, app_id=str(app_id), private_key=private_key,
                                webhook_secret=webhook_secret)
        self.auth = AppAuth(self.settings)
        if self.session is not None and self.worker is None and not self.stopping:
            self._start_working()

    async def stop(self) -> None:
        if self.session is None or self.session.closed:
            return
        log.info("stopping", extra={"detail": f"{len(self.running)} running job(s) stay stored"})
        self.stopping = True
        self.wake.set()
        for task in (self.worker, self.sweeper, self.checkpointer):
            if task:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)
        if self.session:
            await self.session.close()
        self.store.close()

    # -- ingress ----------------------------------------------------------------------------

    async def store_delivery(self, delivery: str, event: str, payload: dict, body: bytes) -> bool:
        """Store a delivery before it is acknowledged. Deliveries that arrive in the same turn of
        the event loop share one commit (SQLite WAL, synchronous=NORMAL)."""
        future = asyncio.get_running_loop().create_future()
        self.batch.append(((delivery, event, payload, body), future))
        if len(self.batch) == 1:
            asyncio.get_running_loop().call_soon(self._commit_batch)
        return await future

    def _commit_batch(self) -> None:
        batch, self.batch = self.batch, []
        try:
            stored = self.store.add_many([row for row, _ in batch])
        except Exception as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), ok in zip(batch, stored):
            future.set_result(ok)
        if any(stored):
            self.wake.set()

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await asyncio.to_thread(self.store.checkpoint)
            except Exception as exc:  # a busy database: the next one catches up
                log.warning("store checkpoint failed", extra={"detail": f"{type(exc).__name__}: {exc}"})

    # -- redelivery -------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
            except Exception as exc:  # GitHub down: the next sweep tries again
                log.warning("redelivery sweep failed", extra={"detail": f"{type(exc).__name__}: {exc}"})

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
            if any(200 <= (t.get("status_code") or 0) < 300 for t in tries) or self.store.has(guid):
                continue
            latest = max(tries, key=lambda t: t.get("delivered_at") or "")
            await gh.post(f"/app/hook/deliveries/{latest['id']}/attempts", data=b"", jwt=jwt)
            redelivered.append(latest["id"])
        if redelivered:
            log.info("asked GitHub to redeliver", extra={"detail": f"{len(redelivered)} failed deliveries"})
        return redelivered

    # -- the worker ------------------------------------------------------------------------

    async def _read_handle(self) -> None:
        """The app's slug is its @handle for commands (GET /app); GitHub being unreachable at start
        must not keep the server from accepting deliveries."""
        try:
            data = await self.gh().getitem("/app", jwt=self.auth.jwt())
            self.handle = data.get("slug") or DEFAULT_HANDLE
        except Exception as exc:
            log.warning("could not read the app's slug; using the default", extra={"detail": type(exc).__name__})

    async def _work(self) -> None:
        await self._read_handle()  # before the first job: commands and markers need the handle
        # A flag, not only cancellation: Python 3.11's wait_for can swallow a cancel that arrives
        # as its inner wait completes, and the worker would never stop.
        while not self.stopping:
            # Acknowledging deliveries comes first: while they pour in, jobs (stored, so nothing
            # is lost) start only every so often.
            if time.monotonic() - self.last_delivery < BUSY_INGRESS and time.monotonic() - self.last_claim < 1.0:
                await asyncio.sleep(BUSY_INGRESS)
                continue
            self.last_claim = time.monotonic()
            free = CONCURRENCY - len(self.running)
            if free > 0:
                busy_repos = {repo for _, repo in self.running_jobs.values()}
                per_installation = Counter(inst for inst, _ in self.running_jobs.values())
                for job in self.store.claim(free, busy_repos):
                    if per_installation[job.installation] >= PER_INSTALLATION:
                        self.store.retry(job.delivery, "waiting for the installation's other jobs")
                        continue
                    per_installation[job.installation] += 1
                    self.running_jobs[job.delivery] = (job.installation, job.repo)
                    self.running[job.delivery] = asyncio.create_task(self._run(job.delivery, job))
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
        log.info("worker stopped")

    async def _run(self, key: str, job) -> None:
        extra = {"delivery": job.delivery, "event": job.event, "repo": job.repo, "attempt": job.attempts}
        result: dict = {}
        try:
            event = sansio.Event(job.payload, event=job.event, delivery_id=job.delivery)
            await router.dispatch(event, self, result=result)
            outcome: Outcome = result.get("outcome") or Outcome("ignored", "no handler")
            self.store.finish(job.delivery, outcome.action, outcome.detail, outcome.pull_number)
            self.metrics.inc("dbf_jobs_total", outcome=outcome.action)
            if outcome.action == "pull-request":
                self.metrics.inc("dbf_pull_requests_opened_total")
            log.info("job done", extra={**extra, "outcome": outcome.action, "detail": outcome.detail})
        except (GitHubBroken, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self._retry_or_fail(job, extra, f"{type(exc).__name__}: {exc}")
        except BadRequest as exc:
            if exc.status_code == 401 and job.installation is not None:
                # An installation token GitHub no longer accepts: mint a new one and try again.
                self.auth.forget(job.installation)
                self._retry_or_fail(job, extra, "installation token refused")
                return
            if exc.status_code in (403, 429) and "rate limit" in str(exc).lower():
                self._retry_or_fail(job, extra, f"rate limited: {exc}")
                return
            # Other 4xx answers will not change by asking again.
            self.store.finish(job.delivery, "failed", f"GitHub said {exc}")
            self.metrics.inc("dbf_jobs_total", outcome="failed")
            log.error("job failed", extra={**extra, "outcome": "failed", "detail": f"GitHub said {exc}"})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not stop the worker; the job ends with its reason
            self.store.finish(job.delivery, "error", f"{type(exc).__name__}: {exc}"[:300])
            self.metrics.inc("dbf_jobs_total", outcome="error")
            log.error("job error", extra={**extra, "outcome": "error", "detail": f"{type(exc).__name__}: {exc}"})
            log.debug("job error", exc_info=True)
        finally:
            self.running.pop(key, None)
            self.running_jobs.pop(key, None)
            self.wake.set()

    def _retry_or_fail(self, job, extra: dict, reason: str) -> None:
        if job.attempts < MAX_ATTEMPTS:
            self.store.retry(job.delivery, reason, delay=retry_delay(job.attempts))
            log.warning("job will be retried", extra={**extra, "detail": reason})
        else:
            self.store.finish(job.delivery, "failed", reason)
            self.metrics.inc("dbf_jobs_total", outcome="failed")
            log.error("job failed", extra={**extra, "outcome": "failed", "detail": reason})


def retry_delay(attempts: int) -> float:
    """Seconds before a failed job runs again: 2, 4, 8, 16 (at most five minutes)."""
    return min(300.0, 2.0 ** attempts)


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
    app.last_delivery = time.monotonic()
    stored = await app.store_delivery(event.delivery_id, event.event, event.data, body)
    app.metrics.inc("dbf_deliveries_total", event=event.event, outcome="accepted" if stored else "duplicate")
    return web.Response(status=202, body=ACCEPTED if stored else ALREADY_RECEIVED, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    return web.json_response({"status": "ok" if app.settings.configured else "setup", "jobs": app.store.counts(),
                              "running": len(app.running)})


async def metrics(request: web.Request) -> web.Response:
    app: App = request.app[APP_KEY]
    counts = app.store.counts()
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
    try:
        # libuv's event loop: markedly more acknowledgements per second than asyncio's own.
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # not on every platform
        pass
    log.info("starting", extra={"detail": f"port {settings.port}, api {settings.api_url}, "
                                          f"dry run {settings.dry_run}, state {settings.state_path}"})
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None,
                print=None, shutdown_timeout=5)

