"""GitHub faults: 5xx, secondary rate limits with retry-after, 429, slow answers; the app
still opens exactly one pull request. And concurrency: many deliveries of one failure."""

import asyncio

from bot.github.api import retry_wait

from .github import Scenario
from .test_app import LOG, STOREFRONT, deliver, settled


def pulls(scenario):
    return [i for i in scenario.repo_state()["issues"].values() if i.get("pull")]


def test_retry_wait():
    assert retry_wait(502, {}, 0) <= 0.375 and retry_wait(502, {}, 3) <= 3.0
    assert retry_wait(403, {"retry-after": "7"}, 0) == 7.0
    assert retry_wait(429, {"retry-after": "3600"}, 0) is None  # too long: the job retries later
    assert retry_wait(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1010"}, 0, now=1000.0) == 11.0
    assert retry_wait(403, {"x-ratelimit-remaining": "12"}, 0) is None  # a permission problem
    assert retry_wait(404, {}, 0) is None


async def test_faults_still_give_exactly_one_pull_request(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    repo = scenario.repo
    sandbox.setup(faults=[
        {"match": f"GET /repos/{repo}/contents/", "status": 502, "times": 1},
        {"match": f"GET /repos/{repo}/actions/runs/", "status": 429, "times": 1, "headers": {"retry-after": "1"}},
        {"match": f"POST /repos/{repo}/git/refs", "status": 403, "times": 1, "headers": {"retry-after": "1"},
         "message": "You have exceeded a secondary rate limit"},
        {"match": f"POST /repos/{repo}/pulls", "status": 500, "times": 2},
        {"match": f"POST /repos/{repo}/issues/\\d+/labels", "status": 503, "times": 1},
        {"match": f"GET /repos/{repo}/git/trees/", "delay": 2.0, "times": 1},  # a slow answer
    ])
    assert (await deliver(client, scenario.payload())).status == 202
    await settled(client, timeout=60)
    assert len(pulls(scenario)) == 1 and sorted(pulls(scenario)[0]["labels"]) == ["ci", "docker-build-fixer"]
    assert sandbox.state()["violations"] == []


async def test_twenty_concurrent_deliveries_and_redeliveries_give_one_pull_request(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    payload = scenario.payload()
    responses = await asyncio.gather(*[deliver(client, payload, delivery=f"d-{scenario.repo}-{i % 15}")
                                       for i in range(20)])
    assert sorted(r.status for r in responses) == [202] * 20
    await settled(client, timeout=60)
    assert len(pulls(scenario)) == 1
    assert sandbox.state()["violations"] == []


async def test_failed_deliveries_are_redelivered(client, sandbox):
    from bot.app.server import APP_KEY
    from .sandbox import now_iso
    app = client.server.app[APP_KEY]
    app.store.add("seen-guid", "workflow_run", {"repository": {"full_name": "acme/x"}})
    sandbox.setup(deliveries=[
        {"id": 501, "guid": "failed-guid", "status_code": 502, "status": "Bad Gateway", "delivered_at": now_iso(-60)},
        {"id": 502, "guid": "failed-then-ok", "status_code": 500, "status": "Error", "delivered_at": now_iso(-120)},
        {"id": 503, "guid": "failed-then-ok", "status_code": 202, "status": "OK", "delivered_at": now_iso(-30)},
        {"id": 504, "guid": "seen-guid", "status_code": 500, "status": "Error", "delivered_at": now_iso(-30)},
        {"id": 505, "guid": "too-old", "status_code": 500, "status": "Error", "delivered_at": now_iso(-4 * 86400)},
    ])
    assert await app.sweep() == [501]
    assert 501 in sandbox.state()["redelivered"]
    assert sandbox.state()["violations"] == []


async def test_the_sweep_prunes_finished_deliveries_past_the_retention(client, sandbox):
    import time
    from bot.app.server import APP_KEY, RETENTION_DAYS
    app = client.server.app[APP_KEY]
    for delivery in ("old-done", "recent-done", "old-pending"):
        app.store.add(delivery, "workflow_run", {"repository": {"full_name": f"acme/{delivery}"}})
    for delivery in ("old-done", "recent-done"):
        app.store.finish(delivery, "no-finding")
    old = time.time() - (RETENTION_DAYS + 1) * 86400
    app.store.db.execute("UPDATE jobs SET updated=? WHERE delivery IN ('old-done', 'old-pending')", (old,))
    sandbox.setup(deliveries=[])
    await app.sweep_logged()
    assert [app.store.has(d) for d in ("old-done", "recent-done", "old-pending")] == [False, True, True]


async def test_a_refused_token_is_replaced_and_the_job_retried(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    sandbox.setup(faults=[{"match": f"GET /repos/{scenario.repo}/actions/runs/", "status": 401, "times": 1,
                           "message": "Bad credentials"}])
    await deliver(client, scenario.payload())
    await settled(client, timeout=60)
    assert len(pulls(scenario)) == 1
    minted = [c for c in sandbox.state()["calls"] if c["path"] == f"/app/installations/{scenario.installation}/access_tokens"]
    assert len(minted) == 2  # the first token was refused: a second one was minted


async def test_an_uninstalled_installation_is_purged(client):
    import json
    from bot.app.server import APP_KEY
    from .github import EXAMPLES
    app = client.server.app[APP_KEY]
    payload = json.loads((EXAMPLES / "installation.deleted.0.json").read_text())
    installation = payload["installation"]["id"]
    app.store.add("old-job", "workflow_run", {"installation": {"id": installation}, "repository": {"full_name": "a/b"}})
    app.store.retry("old-job", "waiting", delay=3600)
    await deliver(client, payload, "installation")
    await settled(client)
    assert not app.store.has("old-job")


async def test_a_pull_request_github_keeps_refusing_leaves_no_branch(client, sandbox, monkeypatch):
    from bot.app import jobs
    from bot.github import api
    monkeypatch.setattr(jobs, "retry_delay", lambda attempts: 0.05)  # the same path, faster
    monkeypatch.setattr(api, "retry_wait", lambda status, headers, attempt: 0.01 if status >= 500 else None)
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    sandbox.setup(faults=[{"match": f"POST /repos/{scenario.repo}/pulls", "status": 500, "times": 4 * 5}])
    await deliver(client, scenario.payload())
    app_refs = lambda: [r for r in scenario.repo_state()["refs"] if r.startswith("heads/docker-build-fixer/")]
    await settled(client, timeout=60)  # five attempts, then the job ends
    assert not pulls(scenario) and not app_refs()
    metrics = await (await client.get("/metrics")).text()
    assert 'dbf_jobs_total{outcome="failed"} 1' in metrics
