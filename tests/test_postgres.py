"""DATABASE_URL=postgresql://...: web and worker processes apart, on a real PostgreSQL server
(tests/postgres.py), against the GitHub sandbox process. Real `python -m bot serve` and
`python -m bot worker` processes, killed and stopped with real signals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from bot.app.postgres import TASK, sweep_cron

from .github import ROOT, Scenario, app_env, free_port, signed, start_server, start_worker, wait_for
from .test_app import LOG, STOREFRONT

FAST = {"WORKER_HEARTBEAT_SECONDS": "1"}  # a dead worker's jobs are taken up after 3 s


def pulls(scenario: Scenario) -> list[dict]:
    return [i for i in scenario.repo_state()["issues"].values() if i.get("pull")]


def post(url: str, payload: dict, delivery: str | None = None) -> tuple[int, str]:
    body, headers = signed(payload, delivery=delivery)
    request = urllib.request.Request(url + "/webhooks", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())["message"]


def query(url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


class Cluster:
    """Web and worker processes on one database; stopped with SIGTERM at the end."""

    def __init__(self, sandbox, tmp_path, database: str, webs: int, **env):
        self.sandbox, self.tmp, self.database, self.env = sandbox, tmp_path, database, env
        self.processes: list[subprocess.Popen] = []
        # Started together on an empty database: the schema is applied once, under a lock.
        with ThreadPoolExecutor(webs) as pool:
            started = list(pool.map(self._web, range(webs)))
        self.urls = [url for url, _ in started]
        self.processes += [process for _, process in started]

    def _web(self, index: int):
        return start_server(self.sandbox, self.tmp / f"web-{index}.sqlite3", free_port(),
                            DATABASE_URL=self.database, **self.env)

    def worker(self, name: str) -> subprocess.Popen:
        process = start_worker(self.sandbox, self.tmp / f"{name}.log", DATABASE_URL=self.database, **self.env)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError(f"{process.args} did not stop on SIGTERM")

    def logs(self, pattern: str = "*.log") -> str:
        return "".join(path.read_text() for path in sorted(self.tmp.glob(pattern)))


@pytest.fixture
def cluster(sandbox, postgres, tmp_path):
    made = []

    def make(webs: int = 2, **env) -> Cluster:
        made.append(Cluster(sandbox, tmp_path, postgres.new_database(), webs, **env))
        return made[-1]

    yield make
    for cluster in made:
        cluster.stop()


def test_two_webs_and_two_workers_survive_a_sigkill(cluster, sandbox):
    """A worker killed with SIGKILL while it holds jobs: the other worker takes them up, and
    every failure ends with exactly one pull request; nothing is lost."""
    c = cluster(**FAST)
    scenarios = [Scenario(sandbox, STOREFRONT, log=LOG) for _ in range(6)]
    # Slow GitHub down so that jobs are mid-flight when the worker dies; a few 5xx for retries.
    sandbox.setup(faults=[{"match": f"POST /graphql|GET /repos/{s.repo}/", "delay": 0.4, "times": 4}
                          for s in scenarios] +
                         [{"match": f"POST /repos/{scenarios[0].repo}/pulls", "status": 502, "times": 1}])
    workers = {}  # procrastinate's worker id -> process (registered one after the other)
    for name in ("worker-a", "worker-b"):
        process = c.worker(name)
        wait_for(lambda: query(c.database, "SELECT count(*) FROM procrastinate_workers")[0][0] == len(workers) + 1,
                 timeout=60)
        new = {i for (i,) in query(c.database, "SELECT id FROM procrastinate_workers")} - set(workers)
        workers[new.pop()] = process
    for index, scenario in enumerate(scenarios):
        assert post(c.urls[index % 2], scenario.payload()) == (202, "accepted")
    holding = wait_for(lambda: query(c.database, "SELECT worker_id, count(*) FROM procrastinate_jobs"
                                                 " WHERE status = 'doing' AND task_name = %s GROUP BY 1 ORDER BY 2 DESC",
                                     TASK), timeout=60, interval=0.02)
    victim = workers[holding[0][0]]
    victim.kill()  # SIGKILL, while it holds jobs: no cleanup at all
    victim.wait(timeout=10)
    survivor = next(p for p in workers.values() if p is not victim)
    for scenario in scenarios:
        wait_for(lambda s=scenario: pulls(s), timeout=90)
    wait_for(lambda: query(c.database, "SELECT count(*) FROM dbf_deliveries WHERE status != 'done'")[0][0] == 0,
             timeout=60)
    time.sleep(1.0)  # anything still running would show up as a second pull request
    assert [len(pulls(s)) for s in scenarios] == [1] * 6
    assert all(sorted(pulls(s)[0]["labels"]) == ["ci", "docker-build-fixer"] for s in scenarios)
    # A job the killed worker had taken as far as the pull request ends as "updated" when run again.
    outcomes = query(c.database, "SELECT outcome, payload IS NULL FROM dbf_deliveries")
    assert len(outcomes) == 6 and {o for o, _ in outcomes} <= {"pull-request", "updated"}
    assert all(dropped for _, dropped in outcomes)  # payloads are dropped once a job is done
    assert "job of a stopped worker queued again" in survivor.log_path.read_text()
    assert sandbox.state()["violations"] == []


def test_sigterm_lets_a_worker_finish_its_jobs(cluster, sandbox):
    c = cluster(webs=1)
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    sandbox.setup(faults=[{"match": f"GET /repos/{scenario.repo}/", "delay": 0.5, "times": 3}])
    worker = c.worker("worker-a")
    post(c.urls[0], scenario.payload())
    wait_for(lambda: query(c.database, "SELECT count(*) FROM dbf_deliveries WHERE status = 'running'")[0][0], timeout=30)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert query(c.database, "SELECT status, outcome FROM dbf_deliveries") == [("done", "pull-request")]
    assert len(pulls(scenario)) == 1


def test_twenty_concurrent_deliveries_over_two_webs_give_one_pull_request(cluster, sandbox):
    c = cluster()
    c.worker("worker-a")
    c.worker("worker-b")
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    payload = scenario.payload()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: post(c.urls[i % 2], payload, f"d-{scenario.repo}-{i % 15}"), range(20)))
    assert [status for status, _ in answers] == [202] * 20
    # 15 distinct delivery ids: each is stored once, whichever web process received it.
    assert sorted(message for _, message in answers) == ["accepted"] * 15 + ["already received"] * 5
    assert query(c.database, "SELECT count(*) FROM dbf_deliveries")[0][0] == 15
    wait_for(lambda: query(c.database, "SELECT count(*) FROM dbf_deliveries WHERE status = 'done'")[0][0] == 15,
             timeout=90)
    assert len(pulls(scenario)) == 1
    assert sandbox.state()["violations"] == []


def test_one_installation_runs_at_most_two_jobs_across_workers(cluster, sandbox):
    c = cluster(webs=1)
    scenarios = [Scenario(sandbox, STOREFRONT, log=LOG) for _ in range(4)]
    installation = scenarios[0].installation
    sandbox.setup(installations=[{"id": installation, "account": "acme", "repos": [s.repo for s in scenarios],
                                  "permissions": {"actions": "read", "checks": "read", "contents": "write",
                                                  "pull_requests": "write", "issues": "write",
                                                  "metadata": "read", "workflows": "write"}}],
                  faults=[{"match": f"GET /repos/{s.repo}/", "delay": 0.3, "times": 4} for s in scenarios])
    for scenario in scenarios:
        payload = scenario.payload()
        payload["installation"]["id"] = installation
        assert post(c.urls[0], payload)[0] == 202
    c.worker("worker-a")
    c.worker("worker-b")
    most = 0
    deadline = time.monotonic() + 90
    while query(c.database, "SELECT count(*) FROM dbf_deliveries WHERE status != 'done'")[0][0]:
        assert time.monotonic() < deadline, "jobs did not finish"
        running = query(c.database, "SELECT count(*) FROM dbf_deliveries WHERE status = 'running'")[0][0]
        most = max(most, running)
        time.sleep(0.02)
    assert most == 2  # both slots used, never a third
    assert [len(pulls(s)) for s in scenarios] == [1] * 4


def test_the_sweep_runs_once_per_period_across_workers(cluster, sandbox):
    c = cluster(webs=1, REDELIVERY_SWEEP_SECONDS="1")
    listed = lambda: len([x for x in sandbox.state()["calls"] if x["template"] == "/app/hook/deliveries"])
    before = listed()
    workers = [c.worker("worker-a"), c.worker("worker-b")]
    wait_for(lambda: query(c.database, "SELECT count(*) FROM procrastinate_workers")[0][0] == 2, timeout=30)
    ticks = lambda: [int(t) for t in re.findall(r'"redelivery sweep", "detail": "tick (\d+)"', c.logs("worker-*.log"))]
    # Three ticks, however long a loaded machine takes to run them; then both workers stop
    # (SIGTERM lets a running sweep finish), so that every logged tick has made its one call.
    wait_for(lambda: len(ticks()) >= 3, timeout=60)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(timeout=30) == 0
    assert len(ticks()) == len(set(ticks()))  # no tick ran twice, on either worker
    assert listed() - before == len(ticks())


def test_queue_depth_on_healthz_and_metrics(cluster, sandbox):
    c = cluster(webs=1)
    scenarios = [Scenario(sandbox, STOREFRONT, log=LOG) for _ in range(3)]
    for scenario in scenarios:
        post(c.urls[0], scenario.payload())
    with urllib.request.urlopen(c.urls[0] + "/healthz", timeout=5) as response:
        assert json.loads(response.read())["jobs"] == {"pending": 3}  # no worker yet: all queued
    with urllib.request.urlopen(c.urls[0] + "/metrics", timeout=5) as response:
        assert "dbf_jobs_pending 3" in response.read().decode()
    c.worker("worker-a")
    wait_for(lambda: all(pulls(s) for s in scenarios), timeout=60)
    wait_for(lambda: json.loads(urllib.request.urlopen(c.urls[0] + "/healthz", timeout=5).read())["jobs"]
             == {"done": 3}, timeout=10)


def test_sweep_period_as_cron():
    assert sweep_cron(600) == "*/10 * * * *"
    assert sweep_cron(2) == "* * * * * */2"
    assert sweep_cron(7200) == "0 */2 * * *"


def test_the_worker_needs_a_database_url(sandbox, tmp_path):
    env = app_env(sandbox, tmp_path / "state.sqlite3", free_port())
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "docker-build-fixer: the worker needs DATABASE_URL=postgresql://...; "
        "with the embedded SQLite store, `serve` runs the jobs itself"]


def test_the_status_page_reads_postgres_across_workers(cluster, sandbox):
    token = "status-token-0123456789abcdef"
    c = cluster(webs=1, STATUS_TOKEN=token)
    good, bad = Scenario(sandbox, STOREFRONT, log=LOG), Scenario(sandbox, STOREFRONT, log=LOG)
    sandbox.setup(faults=[{"match": f"GET /repos/{bad.repo}/actions/runs/", "status": 404, "times": 1}])
    post(c.urls[0], good.payload())
    post(c.urls[0], bad.payload())
    c.worker("worker-a")
    wait_for(lambda: query(c.database, "SELECT count(*) FROM dbf_deliveries WHERE status = 'done'")[0][0] == 2,
             timeout=60)
    request = urllib.request.Request(c.urls[0] + "/", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    number = next(n for n, i in good.repo_state()["issues"].items() if i.get("pull"))
    tiles = dict((label, int(n)) for n, label in re.findall(r'<div class="n">(\d+)</div><div class="l">([^<]+)<', page))
    assert tiles == {"jobs waiting": 0, "jobs running": 0, "jobs done": 2, "installations seen": 2}
    assert good.repo in page and bad.repo in page and f"#{number}</a> build-on-buildplatform" in page
    failures = re.search(r"Failures by reason.*?</table>", page, re.S).group(0)
    assert "GitHub said" in failures and failures.count("<td>1</td>") == 1


async def test_postgres_read_methods_match_sqlite(postgres, sandbox, tmp_path):
    """The queue interface's read methods give the same answers on both stores."""
    from bot.app.jobs import Verdict
    from bot.app.server import App
    from bot.settings import Secret, Settings

    from .github import APP_ID, SECRET, app_key

    settings = Settings(app_id=str(APP_ID), private_key=Secret(app_key()[0]), webhook_secret=Secret(SECRET),
                        api_url=sandbox.base_url, state_path=str(tmp_path / "s.sqlite3"),
                        database_url=Secret(postgres.new_database()))
    answers = []
    for database_url in (None, settings.database_url):
        from dataclasses import replace

        app = App(replace(settings, database_url=database_url))
        await app.queue.start()
        queue = app.queue
        for n in range(3):
            payload = {"repository": {"full_name": f"o/r{n}"}, "installation": {"id": n % 2}}
            assert await queue.store_delivery(f"d{n}", "workflow_run", payload, json.dumps(payload).encode())
            time.sleep(0.01)  # distinct reception times
        assert not await queue.store_delivery("d0", "workflow_run", {}, b"{}")
        verdicts = {"d0": Verdict("done", "pull-request", "pin-qemu", 7), "d1": Verdict("failed", "failed", "GitHub said 404")}
        if database_url is None:
            for delivery, verdict in verdicts.items():
                queue.store.finish(delivery, verdict.outcome, verdict.detail, verdict.pull)
            queue.store.retry("d2", "rate limited", delay=60)
        else:
            for delivery, verdict in verdicts.items():
                await queue._set(delivery, "done", verdict.outcome, verdict.detail, verdict.pull)
            await queue._set("d2", "pending", "retrying", "rate limited")
        recent = await queue.recent(10)
        answers.append(([(j.delivery, j.status, j.outcome, j.detail, j.pull) for j in recent],
                        await queue.failures_by_reason(), await queue.failures_by_reason(since=time.time() + 10),
                        await queue.installation_count(), await queue.counts(), await queue.seen("d1"),
                        await queue.purge_installation(1), await queue.counts(),
                        # retention: nothing finished an hour ago; then every finished job, never a pending one
                        await queue.prune(time.time() - 3600), await queue.prune(time.time() + 10),
                        await queue.counts()))
        await queue.stop()
    assert answers[0] == answers[1]
    assert answers[0][0] == [("d2", "pending", "retrying", "rate limited", None),
                             ("d1", "done", "failed", "GitHub said 404", None),
                             ("d0", "done", "pull-request", "pin-qemu", 7)]
    assert answers[0][1:] == ([("GitHub said 404", 1)], [], 2, {"done": 2, "pending": 1}, True, 1,
                              {"done": 1, "pending": 1}, 0, 1, {"pending": 1})


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_database_that_cannot_be_used_is_one_line(command, postgres, sandbox, tmp_path):
    env = app_env(sandbox, tmp_path / "state.sqlite3", free_port(), DATABASE_WAIT_SECONDS="1",
                  DATABASE_URL=postgres.url("no_such_database"))
    result = subprocess.run([sys.executable, "-m", "bot", command], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("docker-build-fixer: the database in DATABASE_URL cannot be used: ")
    assert "Traceback" not in result.stderr
