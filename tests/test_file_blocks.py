"""A log file is read in blocks that end at a line's end (bot/diagnosis/filescan.py) and each
line the prefilter finds is looked at in a window of the file around it: the findings must be
exactly those of one pass over the whole log, wherever the blocks end, and the same with the
C newline counter and without it."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.diagnosis import Diagnoser, diagnose_bytes, diagnose_chunks, diagnose_file
from bot.diagnosis import filescan, newlines

from .conftest import CORPUS, ROOT, corpus_rows
from .joblogs import build_noise, wrap
from .reallogs import real_logs


def file_findings(path, block: int) -> list:
    engine = Diagnoser(str(path), source=str(path))
    engine.scan_file(block)
    return [(f.to_json(), f.legs) for f in engine.finish()]


def one_pass(data: bytes, path) -> list:
    return [(f.to_json(), f.legs) for f in diagnose_bytes(data, str(path))]


def longest_line(data: bytes) -> int:
    return max(len(line) for line in data.split(b"\n")) + 1


def corpus_logs() -> list[tuple[str, bytes]]:
    logs = [(row["file"], (CORPUS / row["file"]).read_bytes()) for row in corpus_rows()]
    for log in real_logs():
        logs.append((str(log), log.text.encode()))
        logs.append((f"{log} wrapped", wrap(log.text, seed=11, noise=400)[0]))
    return logs


CORPUS_LOGS = corpus_logs()


@pytest.fixture(params=["native", "python"])
def counter(request, monkeypatch):
    """Both newline counters: the C extension (where it is built) and bytes.count."""
    if request.param == "python":
        monkeypatch.setattr(newlines, "count", newlines._python_count)
    elif newlines.NATIVE is None:
        assert os.environ.get("CI") != "true", "CI builds the extension: it must be importable"
    return request.param


def test_every_corpus_log_in_blocks_of_any_size(tmp_path, counter):
    """Every log of tests/data (the corpus, the real excerpts as quoted and wrapped as a job
    log): blocks just longer than the longest line, a few KB, and one block for it all."""
    path = tmp_path / "job.log"
    for name, data in CORPUS_LOGS:
        path.write_bytes(data)
        expected = one_pass(data, path)
        smallest = longest_line(data)
        for block in (smallest, smallest + 7, 4096, 1 << 20):
            assert file_findings(path, max(block, smallest)) == expected, (name, block)


LINES = [line for _, data in CORPUS_LOGS for line in data.splitlines(keepends=True) if len(line) < 300]
NOISE = [(line + "\n").encode() for line in build_noise(400, random.Random(3))]


# Lines that make findings on their own, one of which goes somewhere into each generated log.
CRASHES = [b"#14 12.3 qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n",
           b"qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n",
           b"ERROR: Multi-platform build is not supported for the docker driver.\n"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(LINES), st.sampled_from(NOISE)), min_size=1, max_size=300),
       st.lists(st.tuples(st.sampled_from(CRASHES), st.integers(min_value=0)), min_size=1, max_size=3),
       st.integers(min_value=0, max_value=600), st.lists(st.integers(min_value=1), max_size=12),
       st.booleans())
def test_blocks_and_chunks_anywhere(tmp_path, lines, crashes, extra, cuts, final_newline):
    """Generated logs (lines of the corpus and build noise in any order, a crash or two
    anywhere), cut into blocks of any size above the longest line and into stream chunks
    anywhere: one answer."""
    for crash, at in crashes:
        lines.insert(at % (len(lines) + 1), crash)
    data = b"".join(lines)
    if not final_newline:
        data = data.rstrip(b"\n")
    path = tmp_path / "job.log"
    path.write_bytes(data)
    expected = one_pass(data, path)
    assert expected
    assert file_findings(path, longest_line(data) + extra) == expected
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    streamed = diagnose_chunks([data[a:b] for a, b in zip(bounds, bounds[1:])], str(path))
    assert [(f.to_json(), f.legs) for f in streamed] == expected


def test_a_finding_beside_a_block_edge(tmp_path):
    """The failing step's header, the summary and the crash on both sides of block edges, the
    lines before it (excerpt, step context) in the block before."""
    head = b"".join(NOISE[:40])
    tail = (b"#14 [linux/arm64 build 3/5] RUN npm ci\n"
            b"#14 12.3 qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n"
            b"#14 ERROR: process \"/bin/sh -c npm ci\" did not complete successfully: exit code: 132\n")
    path = tmp_path / "job.log"
    for shift in range(0, 200, 3):
        data = head[:len(head) - shift] + tail + head
        path.write_bytes(data)
        expected = one_pass(data, path)
        assert expected and expected[0][0]["signature"] == "qemu-sigill"
        for block in (longest_line(data), 300, 1000):
            assert file_findings(path, max(block, longest_line(data))) == expected


def test_pure_python_process_gives_the_same_answer(tmp_path):
    """A process where the extension cannot be imported (as on a machine without a compiler)
    prints what one with it prints."""
    data = wrap((CORPUS / corpus_rows()[0]["file"]).read_text(), seed=2, noise=45000)[0]
    log = tmp_path / "job.log"
    log.write_bytes(data)
    assert len(data) > 2 * filescan.BLOCK  # the reader thread runs too
    code = ("import sys; sys.modules['bot.diagnosis._newlines'] = None\n"
            "from bot.diagnosis import newlines; assert newlines.NATIVE is None\n"
            "from bot.cli import main; main(['diagnose', '--json', sys.argv[1]])")
    pure = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True,
                          cwd=ROOT, check=True).stdout
    native = subprocess.run([sys.executable, "-m", "bot", "diagnose", "--json", str(log)],
                            capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert '"qemu-' in native and pure == native


def test_a_mapped_block_counts_without_the_extension(tmp_path, monkeypatch):
    monkeypatch.setattr(newlines, "count", newlines._python_count)
    log = tmp_path / "job.log"
    data = b"".join(NOISE) * 30
    log.write_bytes(data)
    assert sum(c for _, _, _, c in filescan.blocks(str(log), 8192)) == data.count(b"\n")


def test_the_extension_is_built_where_ci_runs():
    """CI installs a compiler (.ci/run), so there the C counter must be the one in use."""
    if os.environ.get("CI") == "true":
        assert newlines.NATIVE in ("avx2", "sse2", "scalar")
    if newlines.NATIVE is not None:
        from bot.diagnosis import _newlines  # noqa: PLC0415 (it may not exist)
        assert newlines.count is _newlines.count


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=3100), st.integers(min_value=0, max_value=3100))
def test_native_count_is_bytes_count(data, start, end):
    assert newlines.count(data, start, end) == data.count(b"\n", start, end)


@pytest.mark.parametrize("size", [31, 32, 33, 255 * 32, 255 * 32 + 1, 65536, 1 << 20, (1 << 20) + 17])
def test_native_count_on_long_runs(size):
    """All newlines (the SIMD byte counters must not wrap) and none, past the size where the
    GIL is released, through bytes, bytearray and memoryview."""
    for data in (b"\n" * size, b"x" * size, (b"ab\ncd" * size)[:size]):
        for buffer in (data, bytearray(data), memoryview(data)):
            assert newlines.count(buffer, 0, size) == data.count(b"\n")
            assert newlines.count(buffer, 1, size - 1) == data.count(b"\n", 1, size - 1)


def test_a_reader_stopped_early_ends(tmp_path):
    """The consumer stops after one block (an exception while diagnosing): the reader
    thread is told to stop and joined, no thread is left behind."""
    log = tmp_path / "job.log"
    log.write_bytes(b"".join(NOISE) * 40)
    before = threading.active_count()
    reader = filescan.blocks(str(log), 4096)
    buffer, start, end, count = next(reader)
    assert end > start and count == buffer[start:end].count(b"\n")
    reader.close()
    assert threading.active_count() == before


def test_blocks_cover_the_file_in_order(tmp_path):
    log = tmp_path / "job.log"
    data = b"".join(NOISE) * 30 + b"no newline at the end"
    log.write_bytes(data)
    for block in (longest_line(data), 5000, 1 << 20):
        pieces = [(bytes(b[start:end]), c) for b, start, end, c in filescan.blocks(str(log), block)]
        assert b"".join(p for p, _ in pieces) == data
        assert all(p.endswith(b"\n") for p, _ in pieces[:-1])
        assert sum(c for _, c in pieces) == data.count(b"\n")


def test_a_pipe_is_streamed(tmp_path):
    """`diagnose /dev/stdin` or a named pipe: read once, as a stream (it cannot be mapped or
    read again), with the same findings as the file."""
    data = wrap((CORPUS / corpus_rows()[0]["file"]).read_text(), seed=4, noise=3000)[0]
    log, fifo = tmp_path / "job.log", tmp_path / "pipe"
    log.write_bytes(data)
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(data,))
    writer.start()
    try:
        from_pipe = [f.to_json() for f in diagnose_file(str(fifo))]
    finally:
        writer.join()
    assert from_pipe and [dict(f, file=None) for f in from_pipe] == [
        dict(f.to_json(), file=None) for f in diagnose_file(str(log))]
