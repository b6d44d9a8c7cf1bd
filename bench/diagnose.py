"""Diagnosis benchmark (SPEC section 10.2): `docker-build-fixer diagnose` against `grep -E`.

Generates a realistic job log (timestamps, colours, two interleaved buildx legs, a QEMU SIGILL
near the end), then, in the same run and on the same file (from the page cache):
  - ``grep -E -c "$(cat grep-patterns.txt)" LOG`` (the baseline; the patterns come from
    the benchmark anchors, ``../shared/bench/grep-patterns.txt`` or ``$DBF_BENCH_ANCHORS/...``,
    when they are there, else from the copy vendored beside this file, taken verbatim from it)
  - ``docker-build-fixer diagnose LOG``: the whole process, cold start included
each the best of N runs (wall time, and CPU time of the process); then the CPU time of the
parts of a diagnosis (start, imports, mapping the file and counting its newlines in C,
scanning; for comparison reading it and counting with ``bytes.count``); then the wall time of
``diagnose`` on a tiny log (the README's example), with the prefilter cache warm and, once,
empty; and the peak RSS of ``diagnose`` on a 20 MB and a 200 MB log (1 GB with --gigabyte).

    python bench/diagnose.py [--size-mb 200] [--runs 5] [--gigabyte]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.diagnosis.engine import HEADLESS_PREFILTER, PREFILTER, read_chunks  # noqa: E402
from tests.joblogs import generated_log  # noqa: E402

ANCHORS = Path(os.environ.get("DBF_BENCH_ANCHORS", ROOT.parent / "shared" / "bench"))
CLI = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
TINY = ROOT / "examples" / "logs" / "arm64-npm-ci-sigill.log"


def grep_patterns() -> str:
    anchored = ANCHORS / "grep-patterns.txt"
    return (anchored if anchored.is_file() else Path(__file__).with_name("grep-patterns.txt")).read_text().strip()


def diagnose_command() -> list[str]:
    """The installed console script when there is one (what a user runs), else the module."""
    script = Path(sys.executable).with_name("docker-build-fixer")
    return [str(script), "diagnose"] if script.exists() else CLI + ["diagnose"]


def write_log(path: Path, size_mb: int) -> int:
    with open(path, "wb") as out:
        for chunk in generated_log(size_mb << 20):
            out.write(chunk)
    return path.stat().st_size


def run_best(command: list[str], runs: int, env: dict | None = None) -> tuple[float, float, list[float], str]:
    """Best wall time, best CPU time (user + system) over ``runs`` runs, all wall times, output."""
    walls, cpus, out = [], [], ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        out = done.stdout.strip()
    return min(walls), min(cpus), walls, out


def peak_rss_mib(log: Path) -> float:
    """Peak RSS of a fresh `docker-build-fixer diagnose` process on this log."""
    code = ("import resource,sys; from bot.cli import main; main(['diagnose','--json',sys.argv[1]]);"
            "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))")
    run = subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, cwd=ROOT)
    return int(run.stderr.strip().splitlines()[-1]) / 1024


# The parts of a diagnosis, each timed as a whole fresh process (so each includes the
# interpreter's start), to show where the CPU goes and what no change to the rules can remove.
PARTS = {  # name: (the part it adds to, code)
    "python start": (None, "pass"),
    "imports": ("python start", "import bot.cli, bot.diagnosis.engine as e; e.HEADLESS_PREFILTER.scanner()"),
    # What the reader thread does (bot/diagnosis/filescan.py): map each block, count its lines.
    "mapping the file + counting newlines": ("imports", (
        "import bot.cli, bot.diagnosis.engine as e\n"
        "for b, lo, hi, n in e.filescan.blocks(LOG): pass")),
    "Hyperscan scan": ("mapping the file + counting newlines", (
        "import bot.cli, bot.diagnosis.engine as e; scan = e.HEADLESS_PREFILTER.scanner()\n"
        "for b, lo, hi, n in e.filescan.blocks(LOG):\n"
        "    with memoryview(b) as v, v[lo:hi] as r: scan(r)")),
    # For comparison: the same count with bytes.count, over the file read into a buffer.
    "reading the file (readinto)": ("imports", "import bot.diagnosis.engine as e\nfor c in e.read_chunks(LOG): pass"),
    "counting newlines, bytes.count": ("reading the file (readinto)", (
        "import bot.diagnosis.engine as e\nfor c in e.read_chunks(LOG): c.obj.count(b'\\n', 0, len(c))")),
}


def parts_cpu(log: Path, runs: int) -> dict[str, float]:
    """Best CPU time of each part in ``PARTS`` on ``log``."""
    found = {}
    for name, (_, body) in PARTS.items():
        code = f"LOG = {str(log)!r}\n{body}"
        found[name] = run_best([sys.executable, "-c", code], runs)[1]
    return found


def prefilter_hits(log: Path) -> tuple[int, int]:
    """Matches the prefilter reports (one Python callback each) for a file and for a stream."""
    found = []
    for prefilter in (HEADLESS_PREFILTER, PREFILTER):
        scan, hits = prefilter.scanner(), 0
        for chunk in read_chunks(str(log)):
            headers, rest = scan(chunk)
            hits += len(headers) + len(rest)
        found.append(hits)
    return found[0], found[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gigabyte", action="store_true", help="also measure peak RSS on a 1 GB log")
    args = parser.parse_args()
    diagnose = diagnose_command()

    with tempfile.TemporaryDirectory(prefix="dbf-bench-") as tmp:
        big = Path(tmp) / "job-big.log"
        small = Path(tmp) / "job-small.log"
        size = write_log(big, args.size_mb)
        write_log(small, max(1, args.size_mb // 10))
        # Warm the page cache, the prefilter cache and the bytecode (as after an install's first run).
        warm_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(diagnose + [str(small)], capture_output=True, cwd=ROOT, env=warm_env)
        grep = [shutil.which("grep"), "-E", "-c", grep_patterns(), str(big)]
        grep_wall, grep_cpu, _, grep_count = run_best(grep, args.runs)
        wall, cpu, _, output = run_best(diagnose + [str(big)], args.runs)
        tiny_wall, _, tiny_walls, _ = run_best(diagnose + [str(TINY)], 30)
        python_wall, _, _, _ = run_best([sys.executable, "-c", "pass"], 30)
        empty_cache = dict(os.environ, DBF_CACHE_DIR=str(Path(tmp) / "empty-cache"))
        first_wall, _, _, _ = run_best(diagnose + [str(TINY)], 1, env=empty_cache)
        parts = parts_cpu(big, args.runs)
        file_hits, stream_hits = prefilter_hits(big)
        rss_small = peak_rss_mib(small)
        rss_big = peak_rss_mib(big)
        rss_gb = None
        if args.gigabyte:
            big.unlink()
            huge = Path(tmp) / "job-1gb.log"
            write_log(huge, 1024)
            rss_gb = peak_rss_mib(huge)

    mb = size / 1e6
    from bot.diagnosis.newlines import NATIVE

    print(f"log: {mb:.0f} MB generated job log, matcher: {PREFILTER.engine}, newline counter: "
          f"{'C (' + NATIVE + ')' if NATIVE else 'bytes.count'}, best of {args.runs}, load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"grep -E -c        wall {grep_wall:6.3f} s ({mb / grep_wall:5.0f} MB/s)  cpu {grep_cpu:6.3f} s"
          f"  (matching lines: {grep_count})")
    print(f"diagnose (cold)   wall {wall:6.3f} s ({mb / wall:5.0f} MB/s)  cpu {cpu:6.3f} s"
          f"  primary: {output.splitlines()[0] if output else '-'}")
    print(f"ratio diagnose/grep: wall {wall / grep_wall:.2f}x, cpu {cpu / grep_cpu:.2f}x (target: 0.50x or less)")
    print(f"prefilter matches (Python callbacks): {file_hits:,} for the file, {stream_hits:,} for it streamed"
          " (the app: step headers included)")
    print("where the CPU goes (each part timed as a fresh process, minus the part it adds to; both threads):")
    for name, (base, _) in PARTS.items():
        alone = parts[name] - (parts[base] if base else 0)
        print(f"  {name:38s} cpu {alone:6.3f} s = {alone / grep_cpu:.2f}x grep's cpu")
    print(f"tiny log ({TINY.name}): wall min {tiny_wall * 1000:.0f} ms, median "
          f"{statistics.median(tiny_walls) * 1000:.0f} ms (python -c pass: {python_wall * 1000:.0f} ms); "
          f"first run with an empty prefilter cache {first_wall * 1000:.0f} ms")
    print(f"peak RSS of `diagnose`: {rss_small:.1f} MiB at {mb / 10:.0f} MB, {rss_big:.1f} MiB at {mb:.0f} MB"
          + (f", {rss_gb:.1f} MiB at 1 GB" if rss_gb is not None else ""))


if __name__ == "__main__":
    main()
