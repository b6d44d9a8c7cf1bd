"""Every real excerpt in the vendored corpus (tests/data/corpus) gives its expected signatures and platform:
as given, wrapped like a real job log, with CRLF line ends, and fed in small chunks."""

import pytest

from bot.diagnosis import diagnose_bytes, diagnose_chunks
from bot.diagnosis.logline import clean

from .conftest import CORPUS, corpus_rows
from .joblogs import wrap

ROWS = corpus_rows()
IDS = [row["file"] for row in ROWS]


def excerpt_shows(finding, text):
    """Long lines are cut to a width in excerpts, with an ellipsis."""
    return any(text.strip().startswith(x.removesuffix(" …").strip()) and x.strip() for x in finding.excerpt)


def check(findings, row):
    assert [f.signature for f in findings] == row["expected"]
    if findings:
        assert findings[0].platform == row["platform"]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_plain(row):
    data = (CORPUS / row["file"]).read_bytes()
    check(diagnose_bytes(data, row["file"]), row)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_wrapped_like_a_job_log(row, seed):
    text = (CORPUS / row["file"]).read_text(encoding="utf-8")
    data, positions = wrap(text, seed=seed)
    findings = diagnose_bytes(data)
    check(findings, row)
    lines = data.split(b"\n")
    for finding in findings:
        # The finding's line number points at its evidence, in the wrapped log too.
        assert finding.line in positions.values()
        assert excerpt_shows(finding, clean(lines[finding.line - 1])[1])
        # Excerpts come without timestamps or colour codes.
        assert not any("\x1b" in x or x.startswith("2025-02-11T") for x in finding.excerpt)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_crlf_in_small_chunks(row):
    text = (CORPUS / row["file"]).read_text(encoding="utf-8")
    data, _ = wrap(text, seed=3, crlf=True, noise=500)
    chunks = [data[i:i + 777] for i in range(0, len(data), 777)]
    check(diagnose_chunks(chunks), row)


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected"]], ids=lambda r: r["file"])
def test_findings_carry_their_evidence(row):
    findings = diagnose_bytes((CORPUS / row["file"]).read_bytes(), row["file"])
    primary = findings[0]
    lines = (CORPUS / row["file"]).read_bytes().split(b"\n")
    assert excerpt_shows(primary, clean(lines[primary.line - 1])[1])
    assert primary.file == row["file"]
    assert 1 <= len(primary.excerpt) <= 7
