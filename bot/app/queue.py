"""The one small interface between the web app and whatever stores and runs its jobs.

Two implementations: ``LocalQueue`` (embedded SQLite, the worker inside the web process; the
default) and ``PostgresQueue`` (PostgreSQL through procrastinate; web and worker processes
apart, any number of each). The handlers and the pipeline see only this.
"""

from __future__ import annotations

from typing import Protocol

from .jobs import JobSummary


class QueueUnavailable(Exception):
    """The queue's database cannot be used at start; the message is one line for the operator."""


class Queue(Protocol):
    runs_worker: bool  # whether this process also runs the jobs

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def store_delivery(self, delivery: str, event: str, payload: dict, body: bytes) -> bool:
        """Store a delivery durably before its 202; False when this delivery id was stored before."""

    async def seen(self, delivery: str) -> bool:
        """Whether a delivery id was ever stored (the redelivery sweep skips those)."""

    async def purge_installation(self, installation: int) -> int:
        """Delete what is stored for an uninstalled installation; the number of jobs deleted."""

    async def prune(self, before: float) -> int:
        """Delete finished jobs last updated before ``before`` (a Unix time); the number deleted.
        Pending and running jobs are never pruned."""

    async def counts(self) -> dict[str, int]:
        """Jobs by status (pending, running, done) for /healthz and /metrics."""

    def running_count(self) -> int:
        """Jobs running in this process."""

    def start_working(self) -> None:
        """Start running jobs in this process, where this queue does (once the app has credentials)."""

    # What the status page reads:

    async def recent(self, limit: int = 50) -> list[JobSummary]:
        """The last deliveries received, newest first."""

    async def failures_by_reason(self, since: float = 0.0) -> list[tuple[str, int]]:
        """Jobs that ended failed or in error since ``since``, counted by reason, most first."""

    async def installation_count(self) -> int:
        """Installations the store holds deliveries of."""


def make_queue(app, settings) -> Queue:
    if settings.database_url is not None:
        from .postgres import PostgresQueue

        return PostgresQueue(app, settings.database_url)
    from .local_queue import LocalQueue

    return LocalQueue(app, settings.state_path)
