import csv
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DBF_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "logs"


def corpus_rows() -> list[dict]:
    with open(CORPUS / "EXPECTED.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["expected"] = [] if row["primary"] == "none" else (
            [row["primary"]] + [s for s in row["also"].split(",") if s]
        )
        row["platform"] = row["platform"] or None
    return rows


@pytest.fixture(scope="session")
def corpus():
    if not CORPUS.is_dir():
        raise RuntimeError(f"the shared corpus is missing: {CORPUS} (set DBF_SHARED)")
    return CORPUS


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The one GitHub sandbox of the test session, in its own process."""
    from .github import SandboxProcess

    process = SandboxProcess(tmp_path_factory.mktemp("sandbox"))
    yield process
    process.stop()
