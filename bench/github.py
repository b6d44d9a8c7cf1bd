"""End-to-end latency and API economy (SPEC sections 10.3 and 10.4), against the GitHub sandbox.

The real server process (`python -m bot serve`) and the sandbox process, with the sandbox
answering every GitHub call after an injected latency (default 50 ms, GitHub's usual order):
  - end to end: from posting a signed failed workflow_run delivery to the pull request being
    opened, for N failures one after the other (p50, p95, max);
  - API economy: GitHub calls per handled failure, from the delivery to the labelled pull
    request, token minting excluded; and per ignored event (a successful run).

    python bench/github.py [--failures 10] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.github import SandboxProcess, Scenario, wait_for  # noqa: E402
from tests.test_app import LOG, STOREFRONT  # noqa: E402
from tests.test_e2e import free_port, start_server  # noqa: E402
from tests.test_e2e import post as deliver  # noqa: E402


def post(url: str, payload: dict) -> None:
    """One signed delivery, acknowledged (the tests' sender)."""
    assert deliver(url, payload) == 202


def pulls(scenario: Scenario) -> list[dict]:
    return [i for i in scenario.repo_state()["issues"].values() if i.get("pull") and i["labels"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dbf-github-bench-"))
    sandbox = SandboxProcess(tmp)
    server = None
    try:
        url, server = start_server(sandbox, tmp / "state.sqlite3", free_port())
        sandbox.setup(latency=args.latency_ms / 1000)
        timings, calls = [], []
        for _ in range(args.failures):
            scenario = Scenario(sandbox, STOREFRONT, log=LOG)
            start = time.perf_counter()
            post(url, scenario.payload())
            wait_for(lambda s=scenario: pulls(s), timeout=120, interval=0.02)
            timings.append(time.perf_counter() - start)
            calls.append(len([c for c in scenario.calls() if not c["template"].startswith("/app/")]))
        ignored = Scenario(sandbox, STOREFRONT, log=LOG, conclusion="success")
        before = len(sandbox.state()["calls"])
        post(url, ignored.payload())
        time.sleep(1.0)
        ignored_calls = len(sandbox.state()["calls"]) - before
        assert sandbox.state()["violations"] == [], sandbox.state()["violations"][:3]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        sandbox.stop()
    ms = sorted(t * 1000 for t in timings)
    print(f"sandbox latency {args.latency_ms:.0f} ms per GitHub call; {args.failures} failures one after the other")
    print(f"delivery -> labelled pull request: p50 {statistics.median(ms):.0f} ms, "
          f"p95 {ms[max(0, int(len(ms) * 0.95) - 1)]:.0f} ms, max {ms[-1]:.0f} ms")
    print(f"GitHub calls per handled failure (token minting excluded): {sorted(set(calls))}")
    print(f"GitHub calls for an ignored event (a successful run): {ignored_calls}")


if __name__ == "__main__":
    main()
