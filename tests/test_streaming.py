"""The engine takes any bytes, in any chunking, in bounded memory."""

import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.diagnosis import SIGNATURES, Diagnoser, diagnose_bytes, diagnose_chunks

from .conftest import CORPUS, corpus_rows
from .joblogs import generated_log, wrap

SAMPLE = (CORPUS / "04-sigill-npm-ci-hang-30min-timeout.log").read_text()
WRAPPED, _ = wrap(SAMPLE, seed=5, noise=300)
# Bytes a job log might plausibly contain, to steer generated input towards the rules.
FRAGMENTS = [b"#12 [linux/arm64 build 3/5] RUN npm ci\n", b"qemu: uncaught target signal 4", b"\r\n",
             b"exit code: 132", b"> [", b"\x1b[31m", b"\xff\xfe", b"npm ERR! code ECONNRESET\n",
             b"2025-02-11T10:00:00.1234567Z ", b"#12 3.1 ", b"]", b"\n", b"\x00", b"Step 1/2 : RUN x\n",
             b"The operation was canceled.\n", b"/dev/.buildkit_qemu_emulator", b"lsb_release"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(data):
    for finding in diagnose_bytes(data):
        assert finding.signature in SIGNATURES
        assert finding.line >= 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=40)), max_size=60))
def test_log_like_bytes_never_raise(parts):
    data = b"".join(parts)
    assert diagnose_bytes(data) == diagnose_chunks([data[i:i + 5] for i in range(0, len(data), 5)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=len(WRAPPED) - 1), max_size=30))
def test_chunking_never_changes_the_result(cuts):
    whole = diagnose_bytes(WRAPPED)
    bounds = [0] + sorted(set(cuts)) + [len(WRAPPED)]
    chunks = [WRAPPED[a:b] for a, b in zip(bounds, bounds[1:])]
    assert diagnose_chunks(chunks) == whole
    assert [f.signature for f in whole] == ["qemu-sigill", "job-timeout"]


def test_every_corpus_log_in_one_byte_chunks():
    for row in corpus_rows()[:8]:
        data = (CORPUS / row["file"]).read_bytes()
        assert diagnose_chunks([data[i:i + 1] for i in range(len(data))]) == diagnose_bytes(data)


def test_a_line_without_newlines_bigger_than_the_window():
    data = b"x" * (3 << 20) + b" qemu: uncaught target signal 4 (Illegal instruction)\nnext\n"
    found = diagnose_chunks([data[i:i + 65536] for i in range(0, len(data), 65536)])
    assert [(f.signature, f.line) for f in found] == [("qemu-sigill", 1)]
    assert all(len(x) < 400 for x in found[0].excerpt)


def test_memory_stays_flat_on_a_streamed_log():
    """About 40 MB through the engine, generated lazily: the peak stays small and the
    failure at the very end is still found on the right line."""
    engine = Diagnoser()
    tracemalloc.start()
    try:
        lines = 0
        for chunk in generated_log(40 << 20):
            lines += chunk.count(b"\n")
            engine.feed(chunk)
        findings = engine.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert engine.bytes_read > 40 << 20
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"
    assert [(f.signature, f.platform) for f in findings] == [("qemu-sigill", "linux/arm64")]
    assert findings[0].line == lines - 3  # the "qemu:" line, fourth from the end
    assert findings[0].step == {"stage": "builder", "instruction": "RUN npm ci"}
