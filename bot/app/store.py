"""The embedded job store (SQLite, WAL): every accepted delivery is stored before the 202.

Logs are never stored: a job holds the webhook payload until it is done, then only its outcome.
``LocalQueue`` (local_queue.py) puts it behind the queue interface of queue.py, which the
PostgreSQL queue (postgres.py) implements too (SPEC section 8).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter

from .jobs import FAILED, Job, JobSummary

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    delivery TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    installation INTEGER,
    repo TEXT,
    payload TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    detail TEXT,
    pull INTEGER,
    not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, created);
"""
# Columns added after the first release: a store created before them gains them at start.
ADDED_COLUMNS = {"detail": "TEXT", "pull": "INTEGER"}


class JobStore:
    def __init__(self, path: str):
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # The WAL is checkpointed by ``checkpoint()`` on its own connection, off the event loop:
        # SQLite's automatic checkpoint would stall acknowledgements every few hundred deliveries.
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        self.path = path
        self.db.executescript(SCHEMA)
        present = {row[1] for row in self.db.execute("PRAGMA table_info(jobs)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in present:
                self.db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        # Jobs that were running when the process stopped run again (effects are idempotent).
        self.db.execute("UPDATE jobs SET status='pending' WHERE status='running'")

    def add_many(self, rows: list[tuple[str, str, dict, bytes | None]]) -> list[bool]:
        """Store several deliveries in one transaction (one commit for a batch of acknowledgements)."""
        self.db.execute("BEGIN")
        try:
            stored = [self._insert(*row) for row in rows]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return stored

    def add(self, delivery: str, event: str, payload: dict, body: bytes | None = None) -> bool:
        return self.add_many([(delivery, event, payload, body)])[0]

    def _insert(self, delivery: str, event: str, payload: dict, body: bytes | None = None) -> bool:
        """Store a delivery; False if this delivery id was stored before (GitHub retried it).
        ``body``, the payload as received, saves serialising it again."""
        installation = _field(payload, "installation", "id")
        repo = _field(payload, "repository", "full_name")
        installation = installation if isinstance(installation, int) else None
        repo = repo if isinstance(repo, str) else None
        now = time.time()
        text = body if body is not None else json.dumps(payload).encode()
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO jobs(delivery, event, installation, repo, payload, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (delivery, event, installation, repo, text, now, now))
        return cursor.rowcount == 1

    def checkpoint(self) -> None:
        """Copy the WAL into the database without blocking writers (call it from a thread)."""
        connection = sqlite3.connect(self.path, timeout=5)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def has(self, delivery: str) -> bool:
        return self.db.execute("SELECT 1 FROM jobs WHERE delivery=?", (delivery,)).fetchone() is not None

    def claim(self, limit: int, busy_repos: set[str], per_installation: Counter | None = None,
              cap: int = 0) -> list[Job]:
        """Up to ``limit`` due jobs, one per repository, at most ``cap`` running per installation
        (``per_installation``: those running now, updated here). A job left behind stays pending
        as it was: waiting for its turn uses up no attempt."""
        rows = self.db.execute(
            "SELECT delivery, event, installation, repo, payload, attempts FROM jobs"
            " WHERE status='pending' AND not_before <= ? ORDER BY created LIMIT ?",
            (time.time(), limit * 4)).fetchall()
        per_installation = Counter() if per_installation is None else per_installation
        jobs = []
        for delivery, event, installation, repo, payload, attempts in rows:
            if repo in busy_repos or len(jobs) >= limit:
                continue  # one job at a time per repository
            if cap and per_installation[installation] >= cap:
                continue  # so that one busy installation cannot starve the others
            busy_repos.add(repo)
            per_installation[installation] += 1
            self.db.execute("UPDATE jobs SET status='running', attempts=attempts+1, updated=? WHERE delivery=?",
                            (time.time(), delivery))
            jobs.append(Job(delivery, event, installation, repo, json.loads(payload), attempts + 1))
        return jobs

    def finish(self, delivery: str, outcome: str, detail: str = "", pull: int | None = None) -> None:
        self.db.execute("UPDATE jobs SET status='done', outcome=?, detail=?, pull=?, payload=NULL, updated=?"
                        " WHERE delivery=?", (outcome, detail, pull, time.time(), delivery))

    def retry(self, delivery: str, reason: str, delay: float = 0.0) -> None:
        now = time.time()
        self.db.execute("UPDATE jobs SET status='pending', outcome='retrying', detail=?, not_before=?, updated=?"
                        " WHERE delivery=?", (reason, now + delay, now, delivery))

    def purge_installation(self, installation: int) -> int:
        return self.db.execute("DELETE FROM jobs WHERE installation=? AND status!='running'",
                               (installation,)).rowcount

    def prune(self, before: float) -> int:
        return self.db.execute("DELETE FROM jobs WHERE status='done' AND updated < ?", (before,)).rowcount

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())

    # -- what the status page reads (a PostgreSQL store implements the same) --------------

    def recent(self, limit: int = 50) -> list[JobSummary]:
        """The last deliveries received, newest first (rowid order: no index to keep up on the hot path)."""
        rows = self.db.execute(
            "SELECT delivery, event, repo, status, outcome, detail, pull, attempts, created, updated FROM jobs"
            " ORDER BY rowid DESC LIMIT ?", (limit,)).fetchall()
        return [JobSummary(*row) for row in rows]

    def failures_by_reason(self, since: float = 0.0) -> list[tuple[str, int]]:
        """Jobs that ended failed or in error since ``since``, counted by reason, most first."""
        return self.db.execute(
            "SELECT COALESCE(NULLIF(detail, ''), outcome), COUNT(*) AS n FROM jobs"
            f" WHERE status='done' AND outcome IN ({','.join('?' * len(FAILED))}) AND updated >= ?"
            " GROUP BY 1 ORDER BY n DESC, 1", (*FAILED, since)).fetchall()

    def installation_count(self) -> int:
        """Installations the store holds deliveries of (a deleted installation's are purged)."""
        return self.db.execute("SELECT COUNT(DISTINCT installation) FROM jobs").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def _field(payload: dict, outer: str, inner: str):
    """payload[outer][inner] where both are what they should be (payloads can be anything)."""
    value = payload.get(outer)
    return value.get(inner) if isinstance(value, dict) else None
