"""The sandbox enforces what GitHub enforces, so that passing against it means something."""

import json
import time
import urllib.error
import urllib.request

import jwt
import pytest

from .github import APP_ID, Scenario, app_key
from .repos import NODE_SITE


def call(sandbox, method, path, token=None, body=None, bearer=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(sandbox.base_url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), exc.headers


def app_jwt(iss=APP_ID):
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(iss)}, app_key()[0], algorithm="RS256")


@pytest.fixture
def scenario(sandbox):
    return Scenario(sandbox, {".github/workflows/ci.yml": "on: push\njobs: {}\n", "Dockerfile": NODE_SITE},
                    log=b"log line\n", workflows_permission=False)


def token_for(sandbox, scenario):
    status, body, _ = call(sandbox, "POST", f"/app/installations/{scenario.installation}/access_tokens",
                           bearer=app_jwt())
    assert status == 201
    return body["token"]


def test_app_endpoints_need_a_valid_jwt(sandbox, scenario):
    assert call(sandbox, "GET", "/app")[0] == 401
    assert call(sandbox, "GET", "/app", bearer=app_jwt(iss=1))[0] == 401
    assert call(sandbox, "GET", "/app", bearer=app_jwt())[0] == 200


def test_requests_are_checked_against_the_published_api(sandbox, scenario):
    token = token_for(sandbox, scenario)
    before = len(sandbox.state()["violations"])
    status, _, headers = call(sandbox, "POST", f"/repos/{scenario.repo}/git/refs", token, {"ref": 5})
    assert status == 422 and headers["x-ratelimit-remaining"]
    assert call(sandbox, "GET", f"/repos/{scenario.repo}/not-an-endpoint", token)[0] == 404
    violations = sandbox.state()["violations"][before:]
    assert any("5 is not of type 'string'" in v for v in violations)
    assert any("not a GitHub REST operation" in v for v in violations)
    sandbox.setup(clear_violations=True)  # these were on purpose; other tests expect none


def test_what_github_enforces(sandbox, scenario):
    token = token_for(sandbox, scenario)
    repo = scenario.repo
    main = scenario.repo_state()["refs"]["heads/main"]
    assert call(sandbox, "GET", f"/repos/{repo}/git/ref/heads/main", "ghs_unknown")[0] == 401
    # Changing a workflow without the workflows permission: 403, as GitHub answers an app.
    status, tree, _ = call(sandbox, "POST", f"/repos/{repo}/git/trees", token, {
        "base_tree": main, "tree": [{"path": ".github/workflows/ci.yml", "mode": "100644", "type": "blob",
                                     "content": "on: pull_request\njobs: {}\n"}]})
    status, commit, _ = call(sandbox, "POST", f"/repos/{repo}/git/commits", token,
                             {"message": "x", "tree": tree["sha"], "parents": [main]})
    status, body, _ = call(sandbox, "POST", f"/repos/{repo}/git/refs", token,
                           {"ref": "refs/heads/fix", "sha": commit["sha"]})
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    # An existing ref: 422.
    status, body, _ = call(sandbox, "POST", f"/repos/{repo}/git/refs", token, {"ref": "refs/heads/main", "sha": main})
    assert (status, body["message"]) == (422, "Reference already exists")


def test_logs_redirect_to_storage_that_refuses_the_token(sandbox, scenario):
    token = token_for(sandbox, scenario)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"{sandbox.base_url}/repos/{scenario.repo}/actions/jobs/{scenario.job_id}/logs",
                                     headers={"Authorization": f"token {token}"})
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=10)
    location = redirect.value.headers["Location"]
    assert redirect.value.code == 302 and location.startswith(sandbox.logs_url)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(location, headers={"Authorization": f"token {token}"}), timeout=10)
    assert refused.value.code == 403
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.read() == b"log line\n"


def test_reactions_and_collaborator_permission(sandbox):
    scenario = Scenario(sandbox, {"Dockerfile": NODE_SITE}, log=b"x\n")
    sandbox.setup(repos=[], pulls=[{"repo": scenario.repo, "head": "feature/y"}])
    token = token_for(sandbox, scenario)
    status, comment, _ = call(sandbox, "POST", f"/repos/{scenario.repo}/issues/1/comments", token, {"body": "hi"})
    assert status == 201
    status, reaction, _ = call(sandbox, "POST", f"/repos/{scenario.repo}/issues/comments/{comment['id']}/reactions",
                               token, {"content": "+1"})
    assert (status, reaction["content"]) == (201, "+1")
    assert call(sandbox, "GET", f"/repos/{scenario.repo}/collaborators/nobody/permission", token)[0] == 404
    assert sandbox.state()["violations"] == []


def test_scoped_tokens_reach_only_their_repository(sandbox):
    first = Scenario(sandbox, {"Dockerfile": NODE_SITE}, log=b"x\n")
    status, body, _ = call(sandbox, "POST", f"/app/installations/{first.installation}/access_tokens",
                           bearer=app_jwt(), body={"repositories": ["unrelated"]})
    assert status == 201
    assert call(sandbox, "GET", f"/repos/{first.repo}/git/ref/heads/main", body["token"])[0] == 404
