"""A log file is diagnosed without tracking step headers while scanning (they are looked up in
the file afterwards): the findings must be exactly those of the streaming path, which the app
uses. Every real excerpt and generated variant is checked both ways, and the look-up is
checked where it is hardest: a header far back, cut by a read block's edge, and the platforms
built before a cancel."""

import pytest

from bot.diagnosis import diagnose_bytes, diagnose_file
from bot.diagnosis.headers import BACK_BLOCK

from . import test_generalisation, test_variants
from .joblogs import wrap
from .reallogs import real_logs
from .test_real_logs import TIME_LIMIT

LOGS = real_logs()


def same_both_ways(data: bytes, tmp_path) -> list[dict]:
    path = tmp_path / "job.log"
    path.write_bytes(data)
    streamed = [f.to_json() for f in diagnose_bytes(data, str(path))]
    assert [f.to_json() for f in diagnose_file(str(path))] == streamed
    return streamed


@pytest.mark.parametrize("log", LOGS, ids=[str(log) for log in LOGS])
def test_real_logs_wrapped(log, tmp_path):
    same_both_ways(wrap(log.text, seed=7, pause_before=TIME_LIMIT)[0], tmp_path)


@pytest.mark.parametrize("name", test_variants.CASES)
def test_variants_wrapped(name, tmp_path):
    same_both_ways(wrap(test_variants.CASES[name][0], seed=3)[0], tmp_path)


@pytest.mark.parametrize("name", test_generalisation.CASES)
def test_generalisation_cases(name, tmp_path):
    same_both_ways(test_generalisation.CASES[name][0].encode(), tmp_path)


def test_cancel_after_silent_emulated_step(tmp_path):
    found = same_both_ways(test_generalisation.WEDGED.encode(), tmp_path)
    assert [(f["signature"], f["platform"]) for f in found] == [("job-timeout", "linux/arm64")]


HEADER = "#14 [linux/arm64 build 3/5] RUN npm ci\n"
FINDING = "#14 12.3 qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n"


def tail_of(length: int) -> str:
    """Other output, then the finding: exactly ``length`` bytes."""
    fill, lines = length - len(FINDING), []
    while fill > 0:
        size = min(fill, 1000) if fill - min(fill, 1000) >= 12 or fill <= 1000 else fill - 12
        lines.append("#900 1.0 " + "z" * (size - 10) + "\n")
        fill -= size
    return "".join(lines) + FINDING


# The first block read back from the end starts ``BACK_BLOCK`` bytes before it: with a tail a
# little shorter than that, the header straddles the block's edge; with a longer one, it is
# several blocks back.
@pytest.mark.parametrize("tail", [BACK_BLOCK - 1, BACK_BLOCK - 9, BACK_BLOCK - len(HEADER) + 1,
                                  BACK_BLOCK, BACK_BLOCK + 5, 2 * BACK_BLOCK + BACK_BLOCK // 2])
def test_header_far_back_or_cut_by_a_block_edge(tmp_path, tail):
    data = ("#1 [internal] load build definition\n" + HEADER + tail_of(tail)).encode()
    assert len(data) - len(HEADER) - tail == len("#1 [internal] load build definition\n")
    found = same_both_ways(data, tmp_path)
    assert [(f["signature"], f["platform"], f["step"]["instruction"]) for f in found] == [
        ("qemu-sigill", "linux/arm64", "RUN npm ci")]
