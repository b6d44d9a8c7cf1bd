"""The GitHub App in-process against the sandbox: a signed delivery in, a pull request out,
every request checked against GitHub's published API; what costs nothing costs nothing."""

import asyncio
import base64
import json
from pathlib import Path

import pytest

from bot.app.server import APP_KEY

from .github import EXAMPLES, Scenario, signed, webhook_errors, workflow_run_payload
from .repos import NODE_SITE

ROOT = Path(__file__).resolve().parents[1]
STOREFRONT = {
    ".github/workflows/docker.yml": (ROOT / "examples/storefront/.github/workflows/docker.yml").read_text(),
    "Dockerfile": (ROOT / "examples/storefront/Dockerfile").read_text(),
    "package.json": (ROOT / "examples/storefront/package.json").read_text(),
}
LOG = (ROOT / "examples/logs/arm64-npm-ci-sigill.log").read_bytes()
# Copies node_modules out of the failing stage, so only a workflow remedy applies.
NEEDS_WORKFLOW = {**STOREFRONT, "Dockerfile": NODE_SITE.replace(
    "COPY --from=build /app/dist /usr/share/nginx/html", "COPY --from=build /app/node_modules ./node_modules")}


async def deliver(client, payload, event="workflow_run", delivery=None):
    body, headers = signed(payload, event, delivery)
    return await client.post("/webhooks", data=body, headers=headers)


async def settled(client, timeout=30.0):
    """Wait until the app has no pending or running job."""
    app = client.server.app[APP_KEY]
    for _ in range(int(timeout / 0.05)):
        counts = app.store.counts()
        if not counts.get("pending") and not counts.get("running") and not app.running:
            return counts
        await asyncio.sleep(0.05)
    raise AssertionError(f"jobs did not settle: {app.store.counts()}")


def app_calls(sandbox) -> list[dict]:
    """Every call but reading the app's own slug (done once, in the background, at start)."""
    return [c for c in sandbox.state()["calls"] if c["template"] != "/app"]


def github_calls(scenario: Scenario) -> list[dict]:
    """Calls for this scenario's repository, without token minting (SPEC section 10.3)."""
    return [c for c in scenario.calls() if not c["template"].startswith("/app/")]


def test_derived_payload_is_a_valid_webhook():
    payload = workflow_run_payload("acme/app", 1, 2)
    assert webhook_errors("workflow_run", "completed", payload) == []


async def test_failure_becomes_a_labelled_pull_request(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    response = await deliver(client, scenario.payload())
    assert response.status == 202
    await settled(client)
    state = scenario.repo_state()
    pulls = [i for i in state["issues"].values() if i.get("pull")]
    assert len(pulls) == 1
    pull = pulls[0]
    assert pull["head"] == "docker-build-fixer/main/docker" and pull["base"] == "main"
    assert pull["title"] == ("Fix the linux/arm64 image build in docker.yml: "
                             "build the failing stage on the build platform")
    assert sorted(pull["labels"]) == ["ci", "docker-build-fixer"] and set(state["labels"]) >= {"ci", "docker-build-fixer"}
    for part in ("qemu: uncaught target signal 4", "## Why this change", "## How to verify", "## If it does not work",
                 "@docker-build-fixer recreate", '<!-- docker-build-fixer: {"attempt": 1', f"/actions/runs/{scenario.run_id}"):
        assert part in pull["body"], part
    # One commit on top of main, made with no custom author, so GitHub signs it.
    branch_head = state["refs"]["heads/docker-build-fixer/main/docker"]
    commit = state["commits"][branch_head]
    assert commit["parents"] == [state["refs"]["heads/main"]] and commit["verified"] and commit["author"] is None
    files = state["files"]["heads/docker-build-fixer/main/docker"]
    assert files["Dockerfile"].splitlines()[1] == "FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build"
    assert files[".github/workflows/docker.yml"] == STOREFRONT[".github/workflows/docker.yml"]
    assert files["package.json"] == STOREFRONT["package.json"]  # the base tree's other files stay
    assert sandbox.state()["violations"] == []
    calls = github_calls(scenario)
    assert len(calls) <= 12, calls


async def test_no_workflows_permission_uses_a_dockerfile_remedy(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG, workflows_permission=False)
    await deliver(client, scenario.payload())
    await settled(client)
    state = scenario.repo_state()
    pulls = [i for i in state["issues"].values() if i.get("pull")]
    assert len(pulls) == 1 and "build-on-buildplatform" in pulls[0]["body"]


async def test_no_workflows_permission_and_only_a_workflow_fix_asks_for_it_once(client, sandbox):
    scenario = Scenario(sandbox, NEEDS_WORKFLOW, log=LOG, workflows_permission=False)
    await deliver(client, scenario.payload())
    await settled(client)
    await deliver(client, scenario.payload())  # a second failure: the same issue, updated
    await settled(client)
    state = scenario.repo_state()
    issues = [i for i in state["issues"].values() if not i.get("pull")]
    assert [i["title"] for i in issues] == ["docker-build-fixer needs attention"]
    assert "Workflows: Read and write" in issues[0]["body"] and "```diff" in issues[0]["body"]
    assert not state["refs"].get("heads/docker-build-fixer/main/docker")
    assert sandbox.state()["violations"] == []


@pytest.mark.parametrize("change", [
    {"conclusion": "success"}, {"conclusion": "skipped"}, {"conclusion": "neutral"}, {"fork": True},
])
async def test_ignored_runs_cost_no_call(client, sandbox, change):
    conclusion = change.pop("conclusion", "failure")
    scenario = Scenario(sandbox, STOREFRONT, log=LOG, conclusion=conclusion)
    before = len(app_calls(sandbox))
    assert (await deliver(client, scenario.payload(**change))).status == 202
    await settled(client)
    assert len(app_calls(sandbox)) == before


async def test_other_branches_only_when_the_config_lists_them(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload(head_branch="feature/x"))
    await settled(client)
    # One call: the config on the default branch, which does not list the branch.
    assert [c["template"] for c in github_calls(scenario)] == ["/repos/{owner}/{repo}/contents/{path}"]
    assert not [i for i in scenario.repo_state()["issues"].values() if i.get("pull")]


async def test_check_run_from_actions_costs_nothing(client, sandbox):
    payload = json.loads((EXAMPLES / "check_run.completed.1.json").read_text())
    before = len(app_calls(sandbox))
    assert (await deliver(client, payload, "check_run")).status == 202
    await settled(client)
    assert len(app_calls(sandbox)) == before


async def test_pull_request_branch_gets_one_comment_updated_in_place(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    sandbox.setup(pulls=[{"repo": scenario.repo, "head": "feature/arm", "title": "Add arm64"}])
    payload = scenario.payload(head_branch="feature/arm", event="pull_request", pull_requests=[
        {"number": 1, "id": 1, "url": "https://api.github.com/x", "head": {"ref": "feature/arm", "sha": "a" * 40,
         "repo": {"id": 1, "url": "https://api.github.com/x", "name": "x"}},
         "base": {"ref": "main", "sha": "b" * 40, "repo": {"id": 1, "url": "https://api.github.com/x", "name": "x"}}}])
    await deliver(client, payload)
    await settled(client)
    await deliver(client, payload)
    await settled(client)
    state = scenario.repo_state()
    comments = list(state["comments"].values())
    assert len(comments) == 1 and comments[0]["issue"] == 1
    assert "```diff" in comments[0]["body"] and "+FROM --platform=$BUILDPLATFORM" in comments[0]["body"]
    assert [r for r in state["refs"] if r.startswith("heads/docker-build-fixer/")] == []
    assert sandbox.state()["violations"] == []


async def test_bad_deliveries_are_refused_cleanly(client):
    body, headers = signed({"zen": "x"}, "workflow_run")
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert (await client.post("/webhooks", data=body, headers=unsigned)).status == 401
    assert (await client.post("/webhooks", data=body, headers={**headers, "X-Hub-Signature-256": "sha256=00"})).status == 401
    bad_json, bad_headers = signed(b"{not json", "workflow_run")
    response = await client.post("/webhooks", data=bad_json, headers=bad_headers)
    assert response.status == 400 and "Traceback" not in await response.text()
    no_delivery = {k: v for k, v in signed({"a": 1})[1].items() if k != "X-GitHub-Delivery"}
    assert (await client.post("/webhooks", data=signed({"a": 1})[0], headers=no_delivery)).status == 400
    star, star_headers = signed({"action": "created"}, "star")
    assert (await client.post("/webhooks", data=star, headers=star_headers)).status == 400
    huge = b"{" + b" " * (26 * 1024 * 1024) + b"}"
    huge_body, huge_headers = signed(huge, "workflow_run")
    assert (await client.post("/webhooks", data=huge_body, headers=huge_headers)).status == 413


async def test_a_redelivered_delivery_is_processed_once(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    first = await deliver(client, scenario.payload(), delivery="fixed-delivery-id-1")
    again = await deliver(client, scenario.payload(), delivery="fixed-delivery-id-1")
    assert (first.status, again.status) == (202, 202)
    assert (await again.json())["message"] == "already received"
    await settled(client)
    assert len([i for i in scenario.repo_state()["issues"].values() if i.get("pull")]) == 1


async def test_health_and_metrics(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    health = await (await client.get("/healthz")).json()
    assert health["status"] == "ok" and health["jobs"]["done"] >= 1
    text = await (await client.get("/metrics")).text()
    assert 'dbf_deliveries_total{event="workflow_run",outcome="accepted"}' in text
    assert 'dbf_jobs_total{outcome="pull-request"} 1' in text
    assert "dbf_pull_requests_opened_total 1" in text
    assert 'dbf_github_calls_total{method="POST"}' in text


async def test_dry_run_writes_nothing(aiohttp_client, sandbox, tmp_path):
    from bot.app.server import create_app
    from bot.settings import Secret, Settings
    from .github import APP_ID, SECRET, app_key
    settings = Settings(app_id=str(APP_ID), private_key=Secret(app_key()[0]), webhook_secret=Secret(SECRET),
                        api_url=sandbox.base_url, state_path=str(tmp_path / "state.sqlite3"), dry_run=True)
    dry = await aiohttp_client(create_app(settings))
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(dry, scenario.payload())
    await settled(dry)
    calls = github_calls(scenario)
    assert calls and all(c["method"] == "GET" or c["template"] == "/graphql" for c in calls)
    assert not [i for i in scenario.repo_state()["issues"].values()]
    text = await (await dry.get("/metrics")).text()
    assert 'dbf_jobs_total{outcome="dry-run"} 1' in text


async def test_a_workflow_over_the_contents_api_limit_is_ignored(client, sandbox):
    """GitHub's contents API serves files up to 1 MB and answers 403 `too_large` beyond: the
    app reads that as "not a workflow to fix", not as a failed job."""
    huge = STOREFRONT[".github/workflows/docker.yml"] + "#" * (1 << 20) + "\n"
    scenario = Scenario(sandbox, {**STOREFRONT, ".github/workflows/docker.yml": huge}, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    assert [(c["template"], c["status"]) for c in github_calls(scenario)] == [
        ("/repos/{owner}/{repo}/contents/{path}", 403)]
    text = await (await client.get("/metrics")).text()
    assert 'dbf_jobs_total{outcome="ignored"} 1' in text and 'outcome="failed"' not in text


async def test_a_truncated_file_is_never_edited(client, sandbox):
    """GraphQL's Blob.text may come cut short (isTruncated): an edit of it would commit the file
    without its end, so the app leaves such a file out."""
    workflow = STOREFRONT[".github/workflows/docker.yml"]
    dockerfile = STOREFRONT["Dockerfile"] + "".join(f"# a long Dockerfile, line {i:03d}\n" for i in range(60))
    scenario = Scenario(sandbox, {**STOREFRONT, "Dockerfile": dockerfile}, log=LOG,
                        blob_text_limit=len(workflow.encode()) + 16)  # the Dockerfile is cut, the workflow not
    await deliver(client, scenario.payload())
    await settled(client)
    branch = scenario.repo_state()["files"].get("heads/docker-build-fixer/main/docker", {})
    assert branch.get("Dockerfile", dockerfile).endswith("# a long Dockerfile, line 059\n")


async def test_a_failed_leg_on_the_second_page_of_a_big_matrix_is_found(client, sandbox):
    """GitHub pages a run's jobs by a hundred: the failed leg of a 150-leg matrix is on page 2."""
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    legs = [{"id": 60000 + n, "name": f"test ({n})", "conclusion": "success", "log_b64": ""} for n in range(149)]
    legs.insert(130, {"id": scenario.job_id, "name": "image", "conclusion": "failure",
                      "log_b64": base64.b64encode(LOG).decode()})
    sandbox.setup(runs=[{"repo": scenario.repo, "run_id": scenario.run_id, "jobs": legs}])
    await deliver(client, scenario.payload())
    await settled(client)
    assert [i for i in scenario.repo_state()["issues"].values() if i.get("pull")]
    pages = [c for c in scenario.calls() if c["template"] == "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs"]
    assert len(pages) == 2


@pytest.mark.parametrize("name", ["Dockerfile-node", "docker/Dockerfile_prod", "web.dockerfile"])
async def test_a_dockerfile_under_another_name_is_read(client, sandbox, name):
    """`Dockerfile-slim`, `Dockerfile_prod`, `web.dockerfile`: what people call them."""
    workflow = STOREFRONT[".github/workflows/docker.yml"].replace("context: .", f"context: .\n          file: {name}")
    files = {".github/workflows/docker.yml": workflow, name: STOREFRONT["Dockerfile"],
             "package.json": STOREFRONT["package.json"]}
    scenario = Scenario(sandbox, files, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    changed = scenario.repo_state()["files"]["heads/docker-build-fixer/main/docker"]
    assert "FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build" in changed[name]
