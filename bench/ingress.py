"""Ingress benchmark (SPEC section 10.1): signed 20 KB workflow_run deliveries at concurrency 50,
against the real server with durable storage on (SQLite; then PostgreSQL with two web processes
sharing the port), side by side with the minimal Probot app of the benchmark anchors
(``../shared/bench`` beside the checkout, or the folder named by ``DBF_BENCH_ANCHORS``) in the
same run.

    python bench/ingress.py [--seconds 15] [--skip-probot] [--skip-postgres]

Needs `wrk` (Debian package) and, for the Probot side, Node.js and npm (it runs `npm install`
in a temporary copy of the anchors); without the anchors it exits with one line saying so.
Prints acknowledgements per second, p50/p99 latency and peak RSS for each, and checks that every
acknowledged delivery of ours is in the store.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = Path(os.environ.get("DBF_BENCH_ANCHORS", ROOT.parent / "shared" / "bench"))
SECRET = "bench-secret"
OURS = "docker-build-fixer (aiohttp, SQLite WAL)"
OURS_PG = "docker-build-fixer, 2 web processes, PostgreSQL"
PROBOT = "Probot 14.3.2 (no storage)"
EXAMPLE = ROOT / "tests" / "data" / "github" / "webhook-examples" / "workflow_run.completed.1.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # answering, even if not 200
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory of a process and its children (Probot's node runs under npm-less node)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            total = int(line.split()[1])
    return total / 1024


def run_wrk(script: Path, url: str, seconds: int) -> dict:
    subprocess.run(["wrk", "-t2", "-c50", "-d2s", "-s", str(script), url], capture_output=True, text=True)  # warm-up
    out = subprocess.run(["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True).stdout
    def latency(pct: str) -> str:
        m = re.search(rf"^\s*{pct}%\s+(\S+)", out, re.M)
        return m.group(1) if m else "?"
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"),
            "p99": latency("99"), "requests": requests, "errors": int(non2xx.group(1)) if non2xx else 0,
            "raw": out}


def measure(command: list[str], cwd: Path, env: dict, port: int, health: str, path: str, script: Path,
            seconds: int, log: Path, processes: int = 1) -> dict:
    """Start a server (``processes`` of them sharing the port), load it with wrk, read the peak
    RSS (summed over the processes), stop it with SIGTERM."""
    servers = []
    with open(log, "w") as log_file:
        for _ in range(processes):
            servers.append(subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log_file))
    try:
        wait_http(f"http://127.0.0.1:{port}{health}")
        time.sleep(1.0 if processes > 1 else 0)  # the other processes bind too
        result = run_wrk(script, f"http://127.0.0.1:{port}{path}", seconds)
        result["rss"] = sum(peak_rss_mib(server.pid) for server in servers)
        return result
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"{command[0]} did not stop on SIGTERM; its log:", log.read_text()[-3000:])
                server.kill()
                raise


def key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--skip-probot", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true",
                        help="skip two web processes on PostgreSQL (needs Debian's postgresql package)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    if not (ANCHORS / "make-wrk-lua.py").is_file():
        sys.exit(f"the benchmark anchors are missing: {ANCHORS} (set DBF_BENCH_ANCHORS to their folder)")
    tmp = Path(tempfile.mkdtemp(prefix="dbf-ingress-"))
    subprocess.run([sys.executable, str(ANCHORS / "make-wrk-lua.py"), str(EXAMPLE), SECRET, str(tmp)],
                   check=True, capture_output=True)
    script = tmp / "wrk.lua"
    size = (tmp / "body.json").stat().st_size
    key = key_pem()
    results = {}

    port = free_port()
    state = tmp / "state.sqlite3"
    env = {**os.environ, "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": key, "GITHUB_WEBHOOK_SECRET": SECRET,
           "GITHUB_API_URL": "http://127.0.0.1:9", "PORT": str(port), "STATE_PATH": str(state), "HOST": "127.0.0.1"}
    results[OURS] = measure([sys.executable, "-m", "bot", "serve"], ROOT, env, port, "/healthz", "/webhooks",
                            script, args.seconds, tmp / "server.log")
    stored = sqlite3.connect(state).execute("SELECT COUNT(*) FROM jobs").fetchone()[0]

    stored_pg = None
    if not args.skip_postgres:
        sys.path.insert(0, str(ROOT))
        import psycopg

        from tests.postgres import PostgresServer
        postgres = PostgresServer(durable=os.environ.get("BENCH_PG_FSYNC", "1") == "1")  # fsync and synchronous commit on, as in production
        try:
            database = postgres.new_database()
            port = free_port()
            env_pg = {**env, "PORT": str(port), "DATABASE_URL": database}
            results[OURS_PG] = measure([sys.executable, "-m", "bot", "serve"], ROOT, env_pg, port, "/healthz",
                                       "/webhooks", script, args.seconds, tmp / "server-pg.log", processes=2)
            with psycopg.connect(database) as conn:
                stored_pg = conn.execute("SELECT count(*) FROM dbf_deliveries").fetchone()[0]
                queued = conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()[0]
                assert queued == stored_pg, (queued, stored_pg)
        finally:
            postgres.stop()

    if not args.skip_probot:
        probot_dir = tmp / "probot"
        shutil.copytree(ANCHORS, probot_dir)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund"], cwd=probot_dir, check=True,
                       capture_output=True)
        port = free_port()
        env = {**os.environ, "APP_ID": "1", "PRIVATE_KEY": key, "WEBHOOK_SECRET": SECRET, "PORT": str(port),
               "LOG_LEVEL": "warn"}
        results[PROBOT] = measure(["node", "probot-app.mjs"], probot_dir, env, port, "/", "/api/github/webhooks",
                                  script, args.seconds, tmp / "probot.log")

    print(f"signed {size / 1024:.1f} KB workflow_run deliveries, wrk -t2 -c50 -d{args.seconds}s, 2 cores shared")
    print(f"{'server':45s} {'acks/s':>9s} {'p50':>9s} {'p99':>9s} {'peak RSS':>10s} {'non-2xx':>8s}")
    for name, r in results.items():
        print(f"{name:45s} {r['rps']:9.0f} {r['p50']:>9s} {r['p99']:>9s} {r['rss']:8.1f} MiB {r['errors']:8d}")
    ours_result = results[OURS]
    print(f"durably stored: {stored} jobs for {ours_result['requests'] + 0} measured requests (+ warm-up)")
    if stored_pg is not None:
        print(f"PostgreSQL: {stored_pg} deliveries and as many queued jobs for {results[OURS_PG]['requests']} "
              "measured requests (+ warm-up)")
    if PROBOT in results:
        for name in (OURS, OURS_PG):
            if name in results:
                print(f"ratio {name} / Probot: {results[name]['rps'] / results[PROBOT]['rps']:.2f}x")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
