"""End to end: the real server process (`python -m bot serve`) with a freshly generated RSA
key, against the sandbox process; a signed delivery in, one verified-commit pull request out."""

import json
import signal
import time
import urllib.request

from .github import SECRET, Scenario, app_key, free_port, signed, start_server, wait_for
from .test_app import LOG, NEEDS_WORKFLOW, STOREFRONT


def post(url: str, payload: dict, event: str = "workflow_run") -> int:
    body, headers = signed(payload, event)
    request = urllib.request.Request(url + "/webhooks", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def pulls(scenario: Scenario) -> list[dict]:
    return [i for i in scenario.repo_state()["issues"].values() if i.get("pull")]


def test_delivery_to_verified_pull_request(server, sandbox):
    url, process = server
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    assert post(url, scenario.payload()) == 202
    pull = wait_for(lambda: pulls(scenario), timeout=60)[0]
    wait_for(lambda: pulls(scenario)[0]["labels"], timeout=30)
    state = scenario.repo_state()
    head = state["refs"][f"heads/{pull['head']}"]
    assert state["commits"][head]["verified"] and state["commits"][head]["author"] is None
    assert "FROM --platform=$BUILDPLATFORM" in state["files"][f"heads/{pull['head']}"]["Dockerfile"]
    assert sorted(pulls(scenario)[0]["labels"]) == ["ci", "docker-build-fixer"]
    assert "## What failed" in pull["body"]
    assert sandbox.state()["violations"] == []
    calls = [c for c in scenario.calls() if not c["template"].startswith("/app/")]
    assert len(calls) <= 12
    print(f"\nAPI economy: {len(calls)} GitHub calls from delivery to labelled pull request")


def test_without_the_workflows_permission(server, sandbox):
    url, _ = server
    scenario = Scenario(sandbox, NEEDS_WORKFLOW, log=LOG, workflows_permission=False)
    assert post(url, scenario.payload()) == 202
    issues = wait_for(lambda: [i for i in scenario.repo_state()["issues"].values() if not i.get("pull")], timeout=60)
    assert issues[0]["title"] == "docker-build-fixer needs attention"
    assert pulls(scenario) == []
    assert sandbox.state()["violations"] == []


def test_metrics_and_logs_carry_no_secret(server, sandbox):
    url, process = server
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    post(url, scenario.payload())
    wait_for(lambda: pulls(scenario), timeout=60)
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert "dbf_pull_requests_opened_total 1" in metrics
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    stderr = process.log_path.read_text()
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(line.get("outcome") == "pull-request" and line.get("repo") == scenario.repo for line in lines)
    tokens = sandbox.state()["tokens"]
    assert tokens, "the app minted no installation token"
    for secret in [SECRET, app_key()[0].splitlines()[1], *tokens]:
        assert secret not in stderr


def test_kill_9_while_jobs_are_stored_and_running(sandbox, tmp_path):
    """Jobs stored before the 202 survive a crash: after kill -9 and a restart, every failure
    gets exactly one pull request (twice over)."""
    for round_ in range(2):
        state = tmp_path / f"state-{round_}.sqlite3"
        port = free_port()
        url, process = start_server(sandbox, state, port)
        scenarios = [Scenario(sandbox, STOREFRONT, log=LOG) for _ in range(3)]
        # Slow GitHub down so that jobs are mid-flight when the process dies.
        sandbox.setup(faults=[{"match": f"POST /graphql|GET /repos/{s.repo}/", "delay": 0.4, "times": 3}
                              for s in scenarios])
        for scenario in scenarios:
            assert post(url, scenario.payload()) == 202
        time.sleep(0.8)
        process.kill()  # SIGKILL: no cleanup at all
        process.wait(timeout=10)
        url, process = start_server(sandbox, state, port)
        try:
            for scenario in scenarios:
                wait_for(lambda s=scenario: pulls(s), timeout=60)
            time.sleep(1.0)  # anything still running would show up as a second pull request
            assert [len(pulls(s)) for s in scenarios] == [1, 1, 1]
            assert all(sorted(pulls(s)[0]["labels"]) == ["ci", "docker-build-fixer"] for s in scenarios)
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert sandbox.state()["violations"] == []
