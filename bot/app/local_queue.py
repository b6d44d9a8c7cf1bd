"""The default queue: the embedded SQLite store and a worker inside the web process.

Bounded concurrency, one job at a time per repository and a cap per installation; while
deliveries pour in, acknowledging them comes first (they are stored, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from .jobs import Job, JobSummary, execute
from .store import JobStore

log = logging.getLogger("docker-build-fixer")

CONCURRENCY = 8
PER_INSTALLATION = 2  # so that one busy installation cannot starve the others
BUSY_INGRESS = 0.05  # seconds since the last delivery during which the worker holds back


class LocalQueue:
    """The queue interface (see ``queue.py``) on SQLite, with the worker in-process."""

    runs_worker = True

    def __init__(self, app, path: str):
        self.app = app
        self.store = JobStore(path)
        self.wake = asyncio.Event()
        self.stopping = False
        self.working = False
        self.batch: list = []
        self.last_delivery = 0.0
        self.last_claim = 0.0
        self.tasks: list[asyncio.Task] = []
        self.running: dict[str, asyncio.Task] = {}  # delivery -> task
        self.running_jobs: dict[str, tuple] = {}  # delivery -> (installation, repository)

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(self._checkpoint_forever())]

    def start_working(self) -> None:
        """Once the app has its credentials (at start, or when the setup page hands them over)."""
        if self.working or self.stopping:
            return
        self.working = True
        self.tasks += [asyncio.create_task(self._work()), asyncio.create_task(self.app.sweep_forever())]

    async def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        for task in self.tasks:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)
        self.store.close()

    # -- the interface the web handlers use ---------------------------------------------------

    async def store_delivery(self, delivery: str, event: str, payload: dict, body: bytes) -> bool:
        """Store a delivery before it is acknowledged. Deliveries that arrive in the same turn of
        the event loop share one commit (SQLite WAL, synchronous=NORMAL)."""
        self.last_delivery = time.monotonic()
        future = asyncio.get_running_loop().create_future()
        self.batch.append(((delivery, event, payload, body), future))
        if len(self.batch) == 1:
            asyncio.get_running_loop().call_soon(self._commit_batch)
        return await future

    async def seen(self, delivery: str) -> bool:
        return self.store.has(delivery)

    async def purge_installation(self, installation: int) -> int:
        return self.store.purge_installation(installation)

    async def prune(self, before: float) -> int:
        return self.store.prune(before)

    async def counts(self) -> dict[str, int]:
        return self.store.counts()

    def running_count(self) -> int:
        return len(self.running)

    async def recent(self, limit: int = 50) -> list[JobSummary]:
        return self.store.recent(limit)

    async def failures_by_reason(self, since: float = 0.0) -> list[tuple[str, int]]:
        return self.store.failures_by_reason(since)

    async def installation_count(self) -> int:
        return self.store.installation_count()

    # -- storage ----------------------------------------------------------------------------

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

    # -- the worker ------------------------------------------------------------------------

    async def _work(self) -> None:
        await self.app.read_handle()  # before the first job: commands and markers need the handle
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
                for job in self.store.claim(free, busy_repos, per_installation, PER_INSTALLATION):
                    self.running_jobs[job.delivery] = (job.installation, job.repo)
                    self.running[job.delivery] = asyncio.create_task(self._run(job))
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
        log.info("worker stopped")

    async def _run(self, job: Job) -> None:
        try:
            verdict = await execute(self.app, job)
            if verdict.status == "retry":
                self.store.retry(job.delivery, verdict.detail, delay=verdict.retry_in)
            else:
                self.store.finish(job.delivery, verdict.outcome, verdict.detail, verdict.pull)
        finally:
            self.running.pop(job.delivery, None)
            self.running_jobs.pop(job.delivery, None)
            self.wake.set()
