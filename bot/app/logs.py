"""Structured logs: one JSON object per line on stderr, with the job's fields."""

from __future__ import annotations

import json
import logging
import sys


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the fields a job adds (delivery, repo, ...) come along."""

    FIELDS = ("delivery", "event", "repo", "outcome", "detail", "remedy", "files", "status", "attempt")

    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": round(record.created, 3), "level": record.levelname.lower(), "msg": record.getMessage()}
        data.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        return json.dumps(data, default=str)


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("docker-build-fixer")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
