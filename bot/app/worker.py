"""``python -m bot worker``: runs jobs from the PostgreSQL queue (any number of these processes,
on any number of machines, beside any number of ``python -m bot serve`` web processes).

On SIGTERM or SIGINT no new job starts and the running ones finish; a worker killed outright
leaves its jobs in the database, where another worker takes them up (postgres.py).
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import signal

from ..settings import Settings
from .logs import setup_logging
from .server import App, use_uvloop

log = logging.getLogger("docker-build-fixer")


def work(settings: Settings) -> None:
    setup_logging()
    # procrastinate's own warnings and errors (a lost connection, a task that raised) go to the
    # same JSON log; its per-job info lines would double ours.
    logging.getLogger("procrastinate").handlers[:] = logging.getLogger("docker-build-fixer").handlers
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    faulthandler.register(signal.SIGUSR1)
    use_uvloop()
    log.info("worker starting", extra={"detail": f"api {settings.api_url}, dry run {settings.dry_run}"})
    asyncio.run(_work(settings))
    log.info("worker stopped")


async def _work(settings: Settings) -> None:
    app = App(settings)
    await app.start()
    try:
        await app.queue.run_worker()
    finally:
        await app.stop()
