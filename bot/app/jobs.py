"""Running one stored job, whichever queue holds it (SQLite in-process, or PostgreSQL workers).

The queue hands a job over and gets a verdict back: done (with the outcome), retry after a
delay, or failed for good. What a verdict means for the stored job is the queue's business;
what an exception means for the job is decided here, once, for both.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from gidgethub import BadRequest, GitHubBroken, sansio

from .events import router
from .pipeline import Outcome

log = logging.getLogger("docker-build-fixer")

MAX_ATTEMPTS = 5


@dataclass
class Job:
    delivery: str
    event: str
    installation: int | None
    repo: str | None
    payload: dict
    attempts: int  # this run included


FAILED = ("failed", "error")  # outcomes of jobs that ended without doing their work


@dataclass(frozen=True)
class JobSummary:
    """One delivery as the status page lists it (never its payload)."""

    delivery: str
    event: str
    repo: str | None
    status: str  # pending | running | done
    outcome: str | None  # the action (pull-request, ignored, failed, ...) or, while pending, "retrying"
    detail: str | None  # the reason, or the remedy of a pull request
    pull: int | None
    attempts: int
    received: float
    updated: float


@dataclass
class Verdict:
    status: str  # done | retry | failed
    outcome: str  # what the job did (pull-request, ignored, ...), "retrying", "failed" or "error"
    detail: str = ""  # the reason, or the remedy of a pull request
    pull: int | None = None
    retry_in: float = 0.0


def retry_delay(attempts: int) -> float:
    """Seconds before a failed job runs again: 2, 4, 8, 16 (at most five minutes)."""
    return min(300.0, 2.0 ** attempts)


async def execute(app, job: Job) -> Verdict:
    """Dispatch the job's event to its handler; count and log what came of it."""
    extra = {"delivery": job.delivery, "event": job.event, "repo": job.repo, "attempt": job.attempts}
    result: dict = {}
    try:
        event = sansio.Event(job.payload, event=job.event, delivery_id=job.delivery)
        await router.dispatch(event, app, result=result)
        outcome: Outcome = result.get("outcome") or Outcome("ignored", "no handler")
        app.metrics.inc("dbf_jobs_total", outcome=outcome.action)
        if outcome.action == "pull-request":
            app.metrics.inc("dbf_pull_requests_opened_total")
        log.info("job done", extra={**extra, "outcome": outcome.action, "detail": outcome.detail})
        return Verdict("done", outcome.action, outcome.detail, outcome.pull_number)
    except (GitHubBroken, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return _retry_or_fail(app, job, extra, f"{type(exc).__name__}: {exc}")
    except BadRequest as exc:
        if exc.status_code == 401 and job.installation is not None:
            # An installation token GitHub no longer accepts: mint a new one and try again.
            app.auth.forget(job.installation)
            return _retry_or_fail(app, job, extra, "installation token refused")
        if exc.status_code in (403, 429) and "rate limit" in str(exc).lower():
            return _retry_or_fail(app, job, extra, f"rate limited: {exc}")
        # Other 4xx answers will not change by asking again.
        app.metrics.inc("dbf_jobs_total", outcome="failed")
        log.error("job failed", extra={**extra, "outcome": "failed", "detail": f"GitHub said {exc}"})
        return Verdict("failed", "failed", f"GitHub said {exc}")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug must not stop the worker; the job ends with its reason
        app.metrics.inc("dbf_jobs_total", outcome="error")
        log.error("job error", extra={**extra, "outcome": "error", "detail": f"{type(exc).__name__}: {exc}"})
        log.debug("job error", exc_info=True)
        return Verdict("failed", "error", f"{type(exc).__name__}: {exc}"[:300])


def _retry_or_fail(app, job: Job, extra: dict, reason: str) -> Verdict:
    if job.attempts < MAX_ATTEMPTS:
        log.warning("job will be retried", extra={**extra, "detail": reason})
        return Verdict("retry", "retrying", reason, retry_in=retry_delay(job.attempts))
    app.metrics.inc("dbf_jobs_total", outcome="failed")
    log.error("job failed", extra={**extra, "outcome": "failed", "detail": reason})
    return Verdict("failed", "failed", reason)
