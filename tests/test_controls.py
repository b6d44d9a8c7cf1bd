"""Maintainers in control, driven only by webhooks and GitHub state (the sandbox): the
verification ladder, declines, commands, human pushes, config, flaky network failures."""

import base64
import json

from .github import EXAMPLES, Scenario, webhook_errors
from .repos import NODE_SITE, buildx_log
from .test_app import LOG, STOREFRONT, deliver, settled

BRANCH = "docker-build-fixer/main/docker"
HANDLE = "docker-build-fixer"
# node_modules copied out of the failing stage: the evidence ladder starts at github-builder.
WORKFLOW_LADDER = {**STOREFRONT, "Dockerfile": NODE_SITE.replace(
    "COPY --from=build /app/dist /usr/share/nginx/html", "COPY --from=build /app/node_modules ./node_modules")}
NETWORK_LOG = buildx_log("linux/arm64", "build", "RUN npm ci",
                         ["npm error code ECONNRESET", "npm error network aborted"], 1)


def pulls(scenario):
    return {int(n): i for n, i in scenario.repo_state()["issues"].items() if i.get("pull")}


def marker(pull):
    from bot.app.texts import read_marker
    return read_marker(pull["body"])


def add_run(scenario, run_id, job_id, log, conclusion="failure", info=None):
    scenario.sandbox.setup(runs=[{"repo": scenario.repo, "run_id": run_id, "info": info, "jobs": [
        {"id": job_id, "name": "image", "conclusion": conclusion, "log_b64": base64.b64encode(log).decode()}]}])


def own_branch_run(scenario, run_id, conclusion):
    head = scenario.repo_state()["refs"][f"heads/{BRANCH}"]
    return scenario.payload(head_branch=BRANCH) | {"workflow_run": {
        **scenario.payload(head_branch=BRANCH)["workflow_run"], "id": run_id, "conclusion": conclusion,
        "head_sha": head, "html_url": f"https://github.com/{scenario.repo}/actions/runs/{run_id}"}}


def pr_closed_payload(scenario, number, sender):
    payload = json.loads((EXAMPLES / "pull_request.closed.3.json").read_text())
    pull = pulls(scenario)[number]
    payload["pull_request"].update({"number": number, "body": pull["body"], "merged": False})
    payload["pull_request"]["user"]["login"] = f"{HANDLE}[bot]"
    payload["sender"]["login"] = sender
    payload["repository"]["full_name"] = scenario.repo
    payload["installation"] = {"id": scenario.installation, "node_id": "x"}
    return payload


def comment_payload(scenario, number, body, login, kind="User", comment_id=1):
    payload = json.loads((EXAMPLES / "issue_comment.created.0.json").read_text())
    pull = pulls(scenario)[number]
    payload["issue"].update({"number": number, "body": pull["body"], "state": pull["state"],
                             "pull_request": {"url": "https://api.github.com/x", "html_url": "https://github.com/x",
                                              "diff_url": "https://github.com/x.diff",
                                              "patch_url": "https://github.com/x.patch", "merged_at": None}})
    payload["issue"]["user"]["login"] = f"{HANDLE}[bot]"
    # Fields the published schema requires that this older example lacks.
    reactions = {"url": "https://api.github.com/x", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
                 "confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0}
    payload["issue"].update({"active_lock_reason": None, "reactions": reactions})
    for label in payload["issue"]["labels"]:
        label.setdefault("description", "")
    payload["comment"].update({"performed_via_github_app": None, "reactions": reactions})
    payload["repository"].update({"is_template": False, "web_commit_signoff_required": False, "topics": [],
                                  "visibility": "public", "custom_properties": {}})
    payload["comment"].update({"id": comment_id, "body": body})
    payload["comment"]["user"].update({"login": login, "type": kind})
    payload["repository"]["full_name"] = scenario.repo
    payload["installation"] = {"id": scenario.installation, "node_id": "x"}
    return payload


def human_comment(scenario, number, body, login):
    response = scenario.sandbox.post("/_sandbox/setup", {"actions": [
        {"repo": scenario.repo, "do": "comment", "number": number, "body": body, "user": login}]})
    return response["comments"][0]


async def test_verification_ladder(client, sandbox):
    scenario = Scenario(sandbox, WORKFLOW_LADDER, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [(number, pull)] = pulls(scenario).items()
    assert marker(pull)["remedy"] == "github-builder" and "**Unverified**" in pull["body"]
    # The pull request's own build fails the same way on an emulated leg: the next remedy.
    add_run(scenario, 9101, 9201, LOG)
    await deliver(client, own_branch_run(scenario, 9101, "failure"))
    await settled(client)
    pull = pulls(scenario)[number]
    assert (marker(pull)["remedy"], marker(pull)["attempt"]) == ("native-runners", 2)
    assert "github-builder" in marker(pull)["tried"]
    notes = [c["body"] for c in scenario.repo_state()["comments"].values() if c["issue"] == number]
    assert any("`github-builder` did not cure it" in n and "`native-runners`" in n for n in notes)
    # Then it passes: the pull request says so.
    await deliver(client, own_branch_run(scenario, 9102, "success"))
    await settled(client)
    pull = pulls(scenario)[number]
    assert marker(pull)["verified"] and "**Verified**" in pull["body"] and "**Unverified**" not in pull["body"]
    assert len(pulls(scenario)) == 1
    assert sandbox.state()["violations"] == []


async def test_three_attempts_then_one_comment(client, sandbox):
    scenario = Scenario(sandbox, WORKFLOW_LADDER, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    for i in range(4):
        add_run(scenario, 9300 + i, 9400 + i, LOG)
        await deliver(client, own_branch_run(scenario, 9300 + i, "failure"))
        await settled(client)
    pull = pulls(scenario)[number]
    assert marker(pull)["attempt"] == 3 and marker(pull)["gave_up"]
    notes = [c["body"] for c in scenario.repo_state()["comments"].values() if c["issue"] == number]
    assert sum("docker-build-fixer stops here" in n for n in notes) == 1


async def test_declined_then_a_new_failure_gets_the_next_remedy(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    assert marker(pulls(scenario)[number])["remedy"] == "build-on-buildplatform"
    sandbox.setup(actions=[{"repo": scenario.repo, "do": "close", "number": number}])
    payload = pr_closed_payload(scenario, number, "octocat")
    assert webhook_errors("pull_request", "closed", payload) == []
    await deliver(client, payload, "pull_request")
    await settled(client)
    notes = [c["body"] for c in scenario.repo_state()["comments"].values() if c["issue"] == number]
    assert len(notes) == 1 and "`build-on-buildplatform` is recorded as declined" in notes[0]
    await deliver(client, scenario.payload())
    await settled(client)
    latest = pulls(scenario)[max(pulls(scenario))]
    assert latest["state"] == "open" and marker(latest)["remedy"] == "github-builder"
    assert "build-on-buildplatform" in marker(latest)["tried"]


async def test_a_merged_remedy_that_did_not_cure_is_not_proposed_again(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    sandbox.setup(actions=[{"repo": scenario.repo, "do": "merge", "number": number}])
    await deliver(client, scenario.payload())  # main fails again with the same signature
    await settled(client)
    latest = pulls(scenario)[max(pulls(scenario))]
    assert marker(latest)["remedy"] == "github-builder"
    assert f"#{number}" in latest["body"]


async def test_commands(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    repo = scenario.repo
    sandbox.post("/_sandbox/setup", {"collaborators": [{"repo": repo, "login": "maintainer", "permission": "write"},
                                                       {"repo": repo, "login": "reader", "permission": "read"}]})
    # A reader and a bot are ignored, without a reaction.
    for login, kind in (("reader", "User"), ("renovate[bot]", "Bot")):
        comment = human_comment(scenario, number, f"@{HANDLE} next", login)
        payload = comment_payload(scenario, number, f"@{HANDLE} next", login, kind, comment)
        await deliver(client, payload, "issue_comment")
        await settled(client)
    assert marker(pulls(scenario)[number])["remedy"] == "build-on-buildplatform"
    assert not any(c.get("reactions") for c in scenario.repo_state()["comments"].values())
    # A maintainer's help, explain and unknown word.
    for word, expect in (("help", "Commands for docker-build-fixer"), ("explain", "## What failed"),
                         ("frobnicate", "`frobnicate` is not a command I know")):
        comment = human_comment(scenario, number, f"@{HANDLE} {word}", "maintainer")
        payload = comment_payload(scenario, number, f"@{HANDLE} {word}", "maintainer", comment_id=comment)
        assert webhook_errors("issue_comment", "created", payload) == []
        await deliver(client, payload, "issue_comment")
        await settled(client)
        bodies = [c["body"] for c in scenario.repo_state()["comments"].values()
                  if c["issue"] == number and c["user"] == f"{HANDLE}[bot]"]
        assert expect in bodies[-1]
        assert scenario.repo_state()["comments"][str(comment)]["reactions"] == (
            ["confused"] if word == "frobnicate" else ["+1"])
    # next: the next remedy on the same pull request.
    comment = human_comment(scenario, number, f"@{HANDLE} next", "maintainer")
    await deliver(client, comment_payload(scenario, number, f"@{HANDLE} next", "maintainer", comment_id=comment),
                  "issue_comment")
    await settled(client)
    assert marker(pulls(scenario)[number])["remedy"] == "github-builder"
    # ignore: closed, declined, and a new failure does not bring it back.
    comment = human_comment(scenario, number, f"@{HANDLE} ignore", "maintainer")
    await deliver(client, comment_payload(scenario, number, f"@{HANDLE} ignore", "maintainer", comment_id=comment),
                  "issue_comment")
    await settled(client)
    assert pulls(scenario)[number]["state"] == "closed"
    await deliver(client, scenario.payload())
    await settled(client)
    latest = pulls(scenario)[max(pulls(scenario))]
    assert marker(latest)["remedy"] == "native-runners"
    assert sandbox.state()["violations"] == []


async def test_a_human_push_ends_the_apps_updates(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    sandbox.setup(actions=[{"repo": scenario.repo, "do": "push", "branch": BRANCH, "files": {"NOTES": "mine\n"}}])
    head = scenario.repo_state()["refs"][f"heads/{BRANCH}"]
    for _ in range(2):
        await deliver(client, scenario.payload())
        await settled(client)
    assert scenario.repo_state()["refs"][f"heads/{BRANCH}"] == head
    notes = [c["body"] for c in scenario.repo_state()["comments"].values() if c["issue"] == number]
    assert sum("pushed to this branch" in n for n in notes) == 1


async def test_invalid_config_is_explained_once(client, sandbox):
    scenario = Scenario(sandbox, {**STOREFRONT, ".github/docker-build-fixer.yml": "polcy: minimal\n"}, log=LOG)
    for _ in range(2):
        await deliver(client, scenario.payload())
        await settled(client)
    state = scenario.repo_state()
    issues = [i for i in state["issues"].values() if not i.get("pull")]
    assert [i["title"] for i in issues] == ["docker-build-fixer needs attention"]
    assert "unknown key" in issues[0]["body"] and not pulls(scenario)


async def test_config_controls(client, sandbox):
    off = Scenario(sandbox, {**STOREFRONT, ".github/docker-build-fixer.yml": "enabled: false\n"}, log=LOG)
    ignored = Scenario(sandbox, {**STOREFRONT, ".github/docker-build-fixer.yml":
                                 "ignore-workflows: [docker.yml]\n"}, log=LOG)
    labelled = Scenario(sandbox, {**STOREFRONT, ".github/docker-build-fixer.yml":
                                  "labels: [arm64, automation]\npolicy: minimal\n"}, log=LOG)
    for scenario in (off, ignored, labelled):
        await deliver(client, scenario.payload())
        await settled(client)
    assert not pulls(off) and not pulls(ignored)
    [pull] = pulls(labelled).values()
    assert sorted(pull["labels"]) == ["arm64", "automation"] and marker(pull)["remedy"] == "pin-qemu"


async def test_open_pull_requests_limit(client, sandbox):
    files = {**STOREFRONT, ".github/workflows/other.yml": STOREFRONT[".github/workflows/docker.yml"]}
    scenario = Scenario(sandbox, files, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    await deliver(client, scenario.payload(workflow_path=".github/workflows/other.yml"))
    await settled(client)
    assert len(pulls(scenario)) == 1  # the default limit is one open pull request per repository


async def test_network_failure_seen_once_then_twice(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=NETWORK_LOG)
    payload = scenario.payload()
    payload["workflow_run"]["workflow_id"] = 161335
    await deliver(client, payload)
    await settled(client)
    assert not pulls(scenario) and not scenario.repo_state()["comments"]
    payload["workflow_run"]["run_attempt"] = 2  # re-run, failed the same way
    await deliver(client, payload)
    await settled(client)
    [pull] = pulls(scenario).values()
    assert marker(pull)["remedy"] == "package-manager-network"


async def test_recreate_undoes_a_decline(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    sandbox.setup(actions=[{"repo": scenario.repo, "do": "close", "number": number}],
                  collaborators=[{"repo": scenario.repo, "login": "maintainer", "permission": "admin"}])
    await deliver(client, pr_closed_payload(scenario, number, "maintainer"), "pull_request")
    await settled(client)
    comment = human_comment(scenario, number, f"@{HANDLE} recreate", "maintainer")
    await deliver(client, comment_payload(scenario, number, f"@{HANDLE} recreate", "maintainer", comment_id=comment),
                  "issue_comment")
    await settled(client)
    assert marker(pulls(scenario)[number])["superseded"]
    latest = pulls(scenario)[max(pulls(scenario))]
    assert latest["state"] == "open" and marker(latest)["remedy"] == "build-on-buildplatform"


async def test_a_native_leg_failure_does_not_climb(client, sandbox):
    scenario = Scenario(sandbox, WORKFLOW_LADDER, log=LOG)
    await deliver(client, scenario.payload())
    await settled(client)
    [number] = pulls(scenario)
    native = buildx_log("linux/amd64", "build", "RUN npm ci", ["npm error code ECONNRESET"], 1)
    add_run(scenario, 9501, 9601, native)
    await deliver(client, own_branch_run(scenario, 9501, "failure"))
    await settled(client)
    assert marker(pulls(scenario)[number])["attempt"] == 1


async def test_network_failure_repeating_the_previous_run(client, sandbox):
    scenario = Scenario(sandbox, STOREFRONT, log=NETWORK_LOG)
    add_run(scenario, 9701, 9801, NETWORK_LOG, info={"workflow_id": 161335, "branch": "main",
                                                     "conclusion": "failure"})
    payload = scenario.payload()
    payload["workflow_run"]["workflow_id"] = 161335
    await deliver(client, payload)
    await settled(client)
    [pull] = pulls(scenario).values()
    assert marker(pull)["remedy"] == "package-manager-network"
