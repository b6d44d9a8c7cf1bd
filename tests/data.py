"""Where the test data lives: everything the suite reads is vendored under tests/data/ (what
each file is, where it comes from and how to refresh it: tests/data/README.md). One place for
the paths, so that new data sets are one line here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

# GitHub's published descriptions (tests/contract.py, tests/graphql.py, tests/github.py).
GITHUB = DATA / "github"
REST_OPENAPI = GITHUB / "api.github.com.openapi.json.gz"
GRAPHQL_SCHEMA = GITHUB / "graphql-schema.graphql.gz"
WEBHOOK_SCHEMAS = GITHUB / "webhooks.schema.json.gz"
WEBHOOK_EXAMPLES = GITHUB / "webhook-examples"

# Real failure logs quoted in public issue threads, with the expected diagnosis of each.
CORPUS = DATA / "corpus" / "logs"
# Real excerpts from public threads, split into tune and held-out sets (tests/reallogs.py).
REAL_LOGS = DATA / "real-logs"
