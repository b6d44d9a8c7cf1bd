"""Scaling out (issue 13): failures handled per minute with 1, 2 and 4 `python -m bot worker`
processes on PostgreSQL, against the GitHub sandbox answering every call after 50 ms.

For each worker count: a fresh database, one web process, the workers; N failed workflow_run
deliveries (distinct repositories, spread over installations) are posted at once, and the clock
stops when every one has its labelled pull request. The one-process SQLite app runs the same
load in the same run, as the baseline.

    python bench/workers.py [--failures 48] [--latency-ms 50] [--installations 12] [--concurrency 8]

Needs Debian's postgresql package (the server is started from tests/postgres.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.github import SandboxProcess, Scenario, free_port, start_server, start_worker  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402
from tests.test_app import LOG, STOREFRONT  # noqa: E402
from tests.test_e2e import post as deliver  # noqa: E402


def post(url: str, payload: dict) -> None:
    """One signed delivery, acknowledged (the tests' sender)."""
    assert deliver(url, payload) == 202


def scenarios(sandbox: SandboxProcess, failures: int, installations: int) -> list[tuple[Scenario, dict]]:
    """Failures in distinct repositories, ``installations`` installations sharing them out."""
    made = [Scenario(sandbox, STOREFRONT, log=LOG) for _ in range(failures)]
    owners = made[:installations]
    for index, owner in enumerate(owners):
        repos = [s.repo for s in made[index::installations]]
        sandbox.setup(installations=[{"id": owner.installation, "account": "acme", "repos": repos,
                                      "permissions": {"actions": "read", "checks": "read", "contents": "write",
                                                      "pull_requests": "write", "issues": "write",
                                                      "metadata": "read", "workflows": "write"}}])
    loads = []
    for index, scenario in enumerate(made):
        payload = scenario.payload()
        payload["installation"]["id"] = owners[index % installations].installation
        loads.append((scenario, payload))
    return loads


def run(sandbox: SandboxProcess, url: str, loads: list[tuple[Scenario, dict]]) -> float:
    """Post every delivery at once; seconds until every failure has its labelled pull request."""
    start = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda load: post(url, load[1]), loads))
    waiting = {s.repo for s, _ in loads}
    while waiting:
        repos = sandbox.state()["repos"]
        waiting = {r for r in waiting if not any(i.get("pull") and i["labels"] for i in repos[r]["issues"].values())}
        if time.perf_counter() - start > 600:
            raise RuntimeError(f"{len(waiting)} failures without a pull request after 10 minutes")
        time.sleep(0.05)
    return time.perf_counter() - start


def stop(processes) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", type=int, default=48)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--installations", type=int, default=12)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=8, help="WORKER_CONCURRENCY: jobs at once per worker")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dbf-workers-bench-"))
    sandbox = SandboxProcess(tmp)
    postgres = PostgresServer(durable=True)
    results: dict[str, float] = {}
    try:
        sandbox.setup(latency=args.latency_ms / 1000)
        url, web = start_server(sandbox, tmp / "sqlite.sqlite3", free_port())
        try:
            results["SQLite, one process (serve)"] = run(sandbox, url, scenarios(sandbox, args.failures,
                                                                                  args.installations))
        finally:
            stop([web])
        for count in (int(n) for n in args.workers.split(",")):
            database = postgres.new_database()
            url, web = start_server(sandbox, tmp / f"web-{count}.sqlite3", free_port(), DATABASE_URL=database)
            workers = [start_worker(sandbox, tmp / f"worker-{count}-{i}.log", DATABASE_URL=database,
                                    WORKER_CONCURRENCY=str(args.concurrency)) for i in range(count)]
            try:
                time.sleep(2.0)  # the workers connect and register
                results[f"PostgreSQL, {count} worker(s)"] = run(sandbox, url, scenarios(sandbox, args.failures,
                                                                                       args.installations))
            finally:
                stop([*workers, web])
        violations = sandbox.state()["violations"]
        assert violations == [], violations[:3]
    finally:
        postgres.stop()
        sandbox.stop()
    print(f"{args.failures} failures at once ({args.installations} installations, distinct repositories), "
          f"{args.latency_ms:.0f} ms per GitHub call, {args.concurrency} jobs at once per worker, "
          f"{os.cpu_count()} cores shared by everything")
    print(f"{'':34s} {'seconds':>8s} {'failures/min':>13s}")
    for name, seconds in results.items():
        print(f"{name:34s} {seconds:8.1f} {args.failures / seconds * 60:13.0f}")


if __name__ == "__main__":
    main()
