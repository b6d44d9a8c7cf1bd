"""The queue on PostgreSQL, through procrastinate: web and worker processes apart, any number
of each, on any number of machines (``DATABASE_URL=postgresql://...``).

- A delivery is stored by the web process before its 202: a row in ``dbf_deliveries`` (the
  delivery id is its primary key, so the same delivery is stored once across every process)
  and a procrastinate job, in one transaction. Deliveries acknowledged in the same turn of the
  event loop share that transaction.
- One job at a time per repository across all workers: the job's procrastinate ``lock`` is the
  repository.
- At most ``PER_INSTALLATION`` jobs of one installation at once across all workers: a running
  job holds one of that installation's advisory-lock slots on its pooled connection (PostgreSQL
  drops the lock with the connection, so a killed worker holds nothing); a job that finds
  every slot taken goes back to the queue for a moment and does not count as an attempt.
- Retries with backoff: ``jobs.execute`` decides, procrastinate reschedules.
- The redelivery sweep and the recovery of jobs whose worker died are periodic tasks:
  procrastinate defers each tick once across all workers.
- The schema is applied on start, under an advisory lock, only where it is missing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket

import psycopg
import psycopg_pool
from procrastinate import App as Procrastinate
from procrastinate import BaseRetryStrategy, PsycopgConnector, RetryDecision

from ..settings import Secret
from .jobs import FAILED, Job, JobSummary, execute
from .queue import QueueUnavailable

log = logging.getLogger("docker-build-fixer")

TASK = "docker_build_fixer.process"
CONCURRENCY = int(os.environ.get("WORKER_CONCURRENCY", "8"))  # jobs at once per worker process
PER_INSTALLATION = 2  # across all workers
HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", "10"))
SLOT_NAMESPACE = 0x44424600  # advisory-lock class ids of installation slots: this + slot number
SCHEMA_LOCK = 0x44424653  # advisory lock held while the schema is checked and applied
DATABASE_WAIT_SECONDS = float(os.environ.get("DATABASE_WAIT_SECONDS", "30"))
BUSY_RETRY_SECONDS = 0.25  # a job whose installation has both slots taken waits this (to twice this)
# New jobs wake workers at once (LISTEN/NOTIFY); a repository's next job, held back by the
# lock of the one that just finished, and retries that come due are found by polling.
POLL_SECONDS = 0.25

DELIVERIES = """
CREATE TABLE IF NOT EXISTS dbf_deliveries (
    delivery TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    installation BIGINT,
    repo TEXT,
    payload BYTEA,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    detail TEXT,
    pull INTEGER,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Payloads are stored uncompressed: compressing 20 KB on every acknowledgement cost more CPU
-- than the disk it saves (they are dropped once the job is done).
ALTER TABLE dbf_deliveries ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS dbf_deliveries_status ON dbf_deliveries (status);
CREATE INDEX IF NOT EXISTS dbf_deliveries_installation ON dbf_deliveries (installation);
CREATE INDEX IF NOT EXISTS dbf_deliveries_created ON dbf_deliveries (created);
-- The retention prune finds finished deliveries by their last update.
CREATE INDEX IF NOT EXISTS dbf_deliveries_updated ON dbf_deliveries (updated) WHERE status = 'done';
"""

# One statement, one round trip, its own transaction: the deliveries not seen before are stored
# and each gets its job, through the function procrastinate's own defer calls (its versioned
# SQL interface, procrastinate_defer_jobs_v1). Binary parameters (%b): a 20 KB payload in a
# text-format array is escaped character by character, which took most of the web process's
# time (measured).
INSERT = """
WITH new AS (
    INSERT INTO dbf_deliveries (delivery, event, installation, repo, payload)
    SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::text[], %b::bytea[])
    ON CONFLICT (delivery) DO NOTHING
    RETURNING delivery, repo
), queued AS (
    SELECT procrastinate_defer_jobs_v1(array_agg(ROW(
        'default', %b, 0, repo, NULL, jsonb_build_object('delivery', delivery), NULL
    )::procrastinate_job_to_defer_v1)) AS ids
    FROM new HAVING count(*) > 0
)
SELECT new.delivery, (SELECT cardinality(ids) FROM queued) FROM new
"""


class RetryLater(Exception):
    """Raised by the task so that procrastinate runs the job again after ``delay`` seconds."""

    def __init__(self, delay: float, reason: str):
        super().__init__(reason)
        self.delay = delay


class _Reschedule(BaseRetryStrategy):
    """Only ``RetryLater`` reschedules: how many times and how long is decided in jobs.py."""

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_in={"seconds": exception.delay})
        return None


def sweep_cron(seconds: float) -> str:
    """A period in seconds as a cron (procrastinate's sixth column is seconds). Periods that do
    not divide a minute or an hour restart at each minute or hour (45 s: at :00 and :45)."""
    seconds = max(1, round(seconds))
    if seconds < 60:
        return f"* * * * * */{seconds}"
    minutes = max(1, seconds // 60)
    return f"*/{minutes} * * * *" if minutes < 60 else f"0 */{max(1, minutes // 60)} * * *"


class PostgresQueue:
    """The queue interface (see ``queue.py``) on PostgreSQL."""

    runs_worker = False  # `python -m bot worker` processes run the jobs

    def __init__(self, app, url: Secret):
        self.app = app
        self.url = url
        self.running: set[str] = set()
        self.batch: list = []
        self.committing = False
        self.committer: asyncio.Task | None = None  # held: the event loop keeps only a weak reference
        self.ingress: psycopg.AsyncConnection | None = None
        self.connector = PsycopgConnector(conninfo=url.reveal())
        self.pool: psycopg_pool.AsyncConnectionPool | None = None
        self.procrastinate = Procrastinate(connector=self.connector)
        self.procrastinate.task(name=TASK, retry=_Reschedule(), pass_context=False)(self._process)
        from .server import SWEEP_SECONDS

        sweep = self.procrastinate.task(name="docker_build_fixer.sweep", pass_context=False)(self._sweep)
        self.procrastinate.periodic(cron=sweep_cron(SWEEP_SECONDS), periodic_id="redelivery")(sweep)
        recover = self.procrastinate.task(name="docker_build_fixer.recover", pass_context=False)(self._recover)
        self.procrastinate.periodic(cron=sweep_cron(HEARTBEAT_SECONDS), periodic_id="stalled")(recover)

    async def start(self) -> None:
        # Each running job holds a connection (its installation slot); the rest serve the queue.
        self.pool = psycopg_pool.AsyncConnectionPool(
            self.url.reveal(), min_size=1, max_size=CONCURRENCY + 4, open=False,
            kwargs={"application_name": "docker-build-fixer"}, check=psycopg_pool.AsyncConnectionPool.check_connection)
        try:
            # A database that is still starting (compose, a fresh platform) gets some time.
            await self.pool.open(wait=True, timeout=DATABASE_WAIT_SECONDS)
            await self.procrastinate.open_async(pool=self.pool)
            await self._apply_schema()
        except Exception as exc:
            await self.pool.close()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise QueueUnavailable(f"the database in DATABASE_URL cannot be used: {reason}") from None

    async def stop(self) -> None:
        if self.ingress is not None:
            await self.ingress.close()
        await self.procrastinate.close_async()
        if self.pool is not None:
            await self.pool.close()

    async def _apply_schema(self) -> None:
        """Idempotent, and safe when several processes start at once on an empty database."""
        async with self.connector.pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                cursor = await conn.execute(
                    "SELECT to_regclass('procrastinate_jobs'), to_regclass('dbf_deliveries')")
                jobs, deliveries = await cursor.fetchone()
                if jobs is None:
                    await conn.execute(self.procrastinate.schema_manager.get_schema())
                    log.info("applied procrastinate's schema")
                if deliveries is None:  # not on every start: ALTER TABLE would lock out ingress
                    await conn.execute(DELIVERIES)

    # -- the interface the web handlers use ---------------------------------------------------

    async def store_delivery(self, delivery: str, event: str, payload: dict, body: bytes) -> bool:
        """Group commit: while one transaction is in flight, the deliveries that arrive wait for
        the next one, which takes them all (the fewer the commits, the more acknowledgements)."""
        future = asyncio.get_running_loop().create_future()
        self.batch.append(((delivery, event, payload, body), future))
        if not self.committing:
            self.committing = True
            self.committer = asyncio.ensure_future(self._commit_batches())
        return await future

    async def _commit_batches(self) -> None:
        try:
            while self.batch:
                await asyncio.sleep(0)  # the requests already read join this batch
                batch, self.batch = self.batch, []
                try:
                    stored = await self._insert([row for row, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), ok in zip(batch, stored):
                    if not future.done():
                        future.set_result(ok)
        finally:
            self.committing = False

    async def _insert(self, rows: list[tuple[str, str, dict, bytes]]) -> list[bool]:
        columns: list[list] = [[], [], [], [], []]
        for delivery, event, payload, body in rows:
            installation, repo = _field(payload, "installation", "id"), _field(payload, "repository", "full_name")
            values = (delivery, event, installation if isinstance(installation, int) else None,
                      repo if isinstance(repo, str) else None, body)
            for column, value in zip(columns, values):
                column.append(value)
        if self.ingress is None or self.ingress.closed:
            # A connection of its own (autocommit): one statement in flight at a time, no pool.
            self.ingress = await psycopg.AsyncConnection.connect(self.url.reveal(), autocommit=True)
        try:
            cursor = await self.ingress.execute(INSERT, [*columns, TASK])
            new = {row[0] for row in await cursor.fetchall()}
        except psycopg.OperationalError:
            await self.ingress.close()  # the next batch connects again
            raise
        stored = []
        for delivery in columns[0]:
            stored.append(delivery in new)
            new.discard(delivery)  # the same id twice in one batch is stored once
        return stored

    async def seen(self, delivery: str) -> bool:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute("SELECT 1 FROM dbf_deliveries WHERE delivery = %s", (delivery,))
            return await cursor.fetchone() is not None

    async def purge_installation(self, installation: int) -> int:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM dbf_deliveries WHERE installation = %s AND status != 'running'", (installation,))
            return cursor.rowcount

    async def prune(self, before: float) -> int:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM dbf_deliveries WHERE status = 'done' AND updated < to_timestamp(%s)", (before,))
            return cursor.rowcount

    async def counts(self) -> dict[str, int]:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute("SELECT status, count(*) FROM dbf_deliveries GROUP BY status")
            return {status: count for status, count in await cursor.fetchall()}

    def running_count(self) -> int:
        return len(self.running)

    def start_working(self) -> None:
        """Jobs run in `python -m bot worker` processes, not in the web process."""

    # -- what the status page reads ------------------------------------------------------------

    async def recent(self, limit: int = 50) -> list[JobSummary]:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT delivery, event, repo, status, outcome, detail, pull, attempts,"
                " extract(epoch FROM created)::float8, extract(epoch FROM updated)::float8"
                " FROM dbf_deliveries ORDER BY created DESC LIMIT %s", (limit,))
            return [JobSummary(*row) for row in await cursor.fetchall()]

    async def failures_by_reason(self, since: float = 0.0) -> list[tuple[str, int]]:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT coalesce(nullif(detail, ''), outcome), count(*) AS n FROM dbf_deliveries"
                " WHERE status = 'done' AND outcome = ANY(%s) AND updated >= to_timestamp(%s)"
                " GROUP BY 1 ORDER BY n DESC, 1", (list(FAILED), since))
            return [tuple(row) for row in await cursor.fetchall()]

    async def installation_count(self) -> int:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute("SELECT count(DISTINCT installation) FROM dbf_deliveries")
            return (await cursor.fetchone())[0]

    # -- the worker ------------------------------------------------------------------------

    async def run_worker(self) -> None:
        """Until SIGTERM or SIGINT: then no new job starts and running ones finish (a job
        killed before it finishes is taken up again by another worker, see ``_recover``)."""
        await self.app.read_handle()
        await self.procrastinate.run_worker_async(
            concurrency=CONCURRENCY, name=f"{socket.gethostname()}-{os.getpid()}", delete_jobs="successful",
            shutdown_graceful_timeout=None, install_signal_handlers=True, fetch_job_polling_interval=POLL_SECONDS,
            update_heartbeat_interval=HEARTBEAT_SECONDS, stalled_worker_timeout=3 * HEARTBEAT_SECONDS)

    async def _process(self, delivery: str) -> None:
        async with self.connector.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT event, installation, repo, payload, status, attempts FROM dbf_deliveries WHERE delivery = %s",
                (delivery,))
            row = await cursor.fetchone()
        if row is None or row[4] == "done":
            return  # purged with its installation, or finished before a worker died
        event, installation, repo, payload, _, attempts = row
        # The slot is a session-level advisory lock on a pooled connection held for the job: it
        # is released before the connection goes back to the pool, and by PostgreSQL itself
        # when the connection dies with its worker.
        async with self.connector.pool.connection() as slot:
            try:
                if installation is not None and not await self._take_slot(slot, installation):
                    raise RetryLater(BUSY_RETRY_SECONDS * (1 + random.random()),
                                     "waiting for the installation's other jobs")
                await self._set(delivery, "running", None, None, attempts=attempts + 1)
                job = Job(delivery, event, installation, repo, _loads(payload), attempts + 1)
                self.running.add(delivery)
                try:
                    verdict = await execute(self.app, job)
                finally:
                    self.running.discard(delivery)
            finally:
                if installation is not None:
                    await slot.execute("SELECT pg_advisory_unlock_all()")
                    await slot.commit()
        if verdict.status == "retry":
            await self._set(delivery, "pending", verdict.outcome, verdict.detail)
            raise RetryLater(verdict.retry_in, verdict.detail)
        await self._set(delivery, "done", verdict.outcome, verdict.detail, verdict.pull)

    async def _take_slot(self, conn: psycopg.AsyncConnection, installation: int) -> bool:
        for slot in range(PER_INSTALLATION):
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                                        (SLOT_NAMESPACE + slot, str(installation)))
            taken = (await cursor.fetchone())[0]
            await conn.commit()  # the lock outlives the transaction; the connection waits idle
            if taken:
                return True
        return False

    async def _set(self, delivery: str, status: str, outcome: str | None, detail: str | None,
                   pull: int | None = None, attempts: int | None = None) -> None:
        """A job's new status; its outcome and detail where given; its payload dropped once done."""
        async with self.connector.pool.connection() as conn:
            await conn.execute(
                "UPDATE dbf_deliveries SET status = %(status)s, outcome = coalesce(%(outcome)s, outcome),"
                " detail = coalesce(%(detail)s, detail), pull = coalesce(%(pull)s, pull),"
                " attempts = coalesce(%(attempts)s, attempts), updated = now(),"
                " payload = CASE WHEN %(status)s = 'done' THEN NULL ELSE payload END WHERE delivery = %(delivery)s",
                {"status": status, "outcome": outcome, "detail": detail, "pull": pull, "attempts": attempts,
                 "delivery": delivery})

    async def _sweep(self, timestamp: int) -> None:
        log.info("redelivery sweep", extra={"detail": f"tick {timestamp}"})
        await self.app.sweep_logged()

    async def _recover(self, timestamp: int) -> None:
        """Jobs of a worker that stopped sending heartbeats (killed, or its machine gone) go back
        to the queue; effects are idempotent, so running one again is safe."""
        manager = self.procrastinate.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=3 * HEARTBEAT_SECONDS):
            await manager.retry_job(job)
            log.warning("job of a stopped worker queued again", extra={"detail": f"job {job.id} {job.task_name}"})


def _loads(payload: bytes | memoryview) -> dict:
    import orjson

    return orjson.loads(bytes(payload))


def _field(payload: dict, outer: str, inner: str):
    value = payload.get(outer)
    return value.get(inner) if isinstance(value, dict) else None
