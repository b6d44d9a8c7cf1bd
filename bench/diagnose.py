"""Diagnosis benchmark (SPEC section 10.2): the engine against ``grep -E`` on the same log.

Generates a realistic job log (timestamps, colours, two interleaved buildx legs, a QEMU
SIGILL near the end), then times, in the same run and on the same file:
  - ``grep -E -c "$(cat ANCHORS/grep-patterns.txt)" LOG`` (the baseline)
  - the engine, streaming the file in 1 MiB chunks (in-process, best of N)
and measures the peak RSS of ``docker-build-fixer diagnose`` on a 20 MB and a 200 MB log
(1 GB too with --gigabyte), each in a fresh process.

    python bench/diagnose.py [--size-mb 200] [--runs 3] [--gigabyte]

ANCHORS is the project's benchmark-anchor folder, ``../shared/bench`` beside the checkout, or
the folder named by ``DBF_BENCH_ANCHORS``. Without it (a plain clone) the grep baseline is left
out and only the engine's throughput and peak RSS are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.diagnosis import diagnose_file  # noqa: E402
from bot.diagnosis.engine import PREFILTER  # noqa: E402
from tests.joblogs import generated_log  # noqa: E402

ANCHORS = Path(os.environ.get("DBF_BENCH_ANCHORS", ROOT.parent / "shared" / "bench"))
GREP_PATTERNS = ANCHORS / "grep-patterns.txt"


def write_log(path: Path, size_mb: int) -> int:
    with open(path, "wb") as out:
        for chunk in generated_log(size_mb << 20):
            out.write(chunk)
    return path.stat().st_size


def best_of(runs: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def grep_time(log: Path, runs: int) -> tuple[float, str]:
    pattern = GREP_PATTERNS.read_text().strip()
    grep = shutil.which("grep")

    def run():
        return subprocess.run([grep, "-E", "-c", pattern, str(log)], capture_output=True, text=True).stdout.strip()

    return best_of(runs, run)


def peak_rss_mib(log: Path) -> float:
    """Peak RSS of a fresh `docker-build-fixer diagnose` process on this log."""
    code = ("import resource,sys; from bot.cli import main; main(['diagnose','--json',sys.argv[1]]);"
            "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))")
    run = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, cwd=ROOT)
    return int(run.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gigabyte", action="store_true", help="also measure peak RSS on a 1 GB log")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dbf-bench-") as tmp:
        big = Path(tmp) / "job-big.log"
        small = Path(tmp) / "job-small.log"
        size = write_log(big, args.size_mb)
        write_log(small, max(1, args.size_mb // 10))
        diagnose_file(str(small))  # warm the page cache and imports
        grep_s, grep_count = grep_time(big, args.runs) if GREP_PATTERNS.is_file() else (None, None)
        engine_s, findings = best_of(args.runs, lambda: diagnose_file(str(big)))
        rss_small = peak_rss_mib(small)
        rss_big = peak_rss_mib(big)
        rss_gb = None
        if args.gigabyte:
            big.unlink()
            huge = Path(tmp) / "job-1gb.log"
            write_log(huge, 1024)
            rss_gb = peak_rss_mib(huge)

    mb = size / 1e6
    print(f"log: {mb:.0f} MB generated job log, matcher: {PREFILTER.engine}")
    if grep_s is not None:
        print(f"grep -E -c      {grep_s:7.3f} s  {mb / grep_s:7.0f} MB/s  (matching lines: {grep_count})")
    else:
        print(f"grep baseline left out: no {GREP_PATTERNS} (set DBF_BENCH_ANCHORS)")
    print(f"engine          {engine_s:7.3f} s  {mb / engine_s:7.0f} MB/s  "
          f"findings: {[(f.signature, f.platform, f.line) for f in findings]}")
    if grep_s is not None:
        print(f"ratio engine/grep: {engine_s / grep_s:.2f}x")
    print(f"peak RSS of `diagnose`: {rss_small:.1f} MiB at {mb / 10:.0f} MB, {rss_big:.1f} MiB at {mb:.0f} MB"
          + (f", {rss_gb:.1f} MiB at 1 GB" if rss_gb is not None else ""))


if __name__ == "__main__":
    main()
