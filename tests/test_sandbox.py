"""The sandbox enforces what GitHub enforces, so that passing against it means something."""

import json
import time
import urllib.error
import urllib.request

import jwt
import pytest

from bot.github import API_VERSION

from .github import APP_ID, Scenario, app_key
from .repos import NODE_SITE


def call(sandbox, method, path, token=None, body=None, bearer=None, version=API_VERSION):
    headers = {"Content-Type": "application/json"}
    if version:
        headers["X-GitHub-Api-Version"] = version
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


def app_jwt(iss=APP_ID, lifetime=540):
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + lifetime, "iss": str(iss)}, app_key()[0], algorithm="RS256")


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
    assert call(sandbox, "GET", "/app", bearer=app_jwt(lifetime=3600))[0] == 401  # over GitHub's 10 minutes
    assert call(sandbox, "GET", "/app", bearer=app_jwt())[0] == 200


def test_the_api_version_is_checked(sandbox, scenario):
    token = token_for(sandbox, scenario)
    path = f"/repos/{scenario.repo}/pulls"
    before = len(sandbox.state()["violations"])
    assert call(sandbox, "GET", path, token, version="2021-01-01")[0] == 400  # as GitHub refuses it
    assert call(sandbox, "GET", path, token, version="2022-11-28")[0] == 200
    assert sandbox.state()["violations"][before:] == []
    assert call(sandbox, "GET", path, token, version=None)[0] == 200  # GitHub answers as 2022-11-28 ...
    assert "no X-GitHub-Api-Version" in sandbox.state()["violations"][-1]  # ... but the app pins one
    sandbox.setup(clear_violations=True)


def test_requests_are_checked_against_the_published_api(sandbox, scenario):
    token = token_for(sandbox, scenario)
    before = len(sandbox.state()["violations"])
    status, _, headers = call(sandbox, "POST", f"/repos/{scenario.repo}/git/refs", token, {"ref": 5})
    assert status == 422 and headers["x-ratelimit-remaining"]
    assert call(sandbox, "GET", f"/repos/{scenario.repo}/not-an-endpoint", token)[0] == 404
    # Fields GitHub does not document are ignored by GitHub: answered, and reported.
    main_tree = scenario.repo_state()["commits"][scenario.repo_state()["refs"]["heads/main"]]["tree"]
    status, _, _ = call(sandbox, "POST", f"/repos/{scenario.repo}/git/trees", token, {
        "base_tree": main_tree, "author": "me",
        "tree": [{"path": "a", "mode": "100644", "type": "blob", "content": "a", "encoding": "utf-8"}]})
    assert status == 201
    violations = sandbox.state()["violations"][before:]
    assert any("5 is not of type 'string'" in v for v in violations)
    assert any("not a GitHub REST operation" in v for v in violations)
    assert any("no body field 'author'" in v for v in violations)
    assert any("no body field 'tree[0].encoding'" in v for v in violations)
    sandbox.setup(clear_violations=True)  # these were on purpose; other tests expect none


def test_what_github_enforces(sandbox, scenario):
    token = token_for(sandbox, scenario)
    repo = scenario.repo
    main = scenario.repo_state()["refs"]["heads/main"]
    main_tree = scenario.repo_state()["commits"][main]["tree"]
    assert call(sandbox, "GET", f"/repos/{repo}/git/ref/heads/main", "ghs_unknown")[0] == 401
    change = [{"path": ".github/workflows/ci.yml", "mode": "100644", "type": "blob",
               "content": "on: pull_request\njobs: {}\n"}]
    # base_tree is "the SHA1 of an existing Git tree object": a commit SHA is refused.
    status, body, _ = call(sandbox, "POST", f"/repos/{repo}/git/trees", token, {"base_tree": main, "tree": change})
    assert (status, body["message"]) == (422, "base_tree is not a valid tree oid")
    # Changing a workflow without the workflows permission: 403, as GitHub answers an app.
    status, tree, _ = call(sandbox, "POST", f"/repos/{repo}/git/trees", token, {"base_tree": main_tree, "tree": change})
    assert status == 201
    status, commit, _ = call(sandbox, "POST", f"/repos/{repo}/git/commits", token,
                             {"message": "x", "tree": tree["sha"], "parents": [main]})
    status, body, _ = call(sandbox, "POST", f"/repos/{repo}/git/refs", token,
                           {"ref": "refs/heads/fix", "sha": commit["sha"]})
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    # A ref name that is not fully qualified: 422.
    status, body, _ = call(sandbox, "POST", f"/repos/{repo}/git/refs", token, {"ref": "heads/x", "sha": main})
    assert status == 422 and "refs/" in body["message"]
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
                                     headers={"Authorization": f"token {token}", "X-GitHub-Api-Version": API_VERSION})
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


def graphql(sandbox, token, query, **variables):
    return call(sandbox, "POST", "/graphql", token, {"query": query, "variables": variables})


READ_BRANCH = """query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
  head: ref(qualifiedName: "refs/heads/main") { target { oid ... on Commit { tree { oid } } } }
  docker: object(expression: "main:Dockerfile") { ... on Blob { text isBinary byteSize } }
  missing: object(expression: "main:nope/Dockerfile") { ... on Blob { text } }
  dir: object(expression: "main:.github") { ... on Tree { entries { name type } } }
} }"""


def test_graphql_is_executed_over_the_sandbox_state(sandbox, scenario):
    token = token_for(sandbox, scenario)
    owner, name = scenario.repo.split("/")
    status, body, _ = graphql(sandbox, token, READ_BRANCH, owner=owner, name=name)
    main = scenario.repo_state()["refs"]["heads/main"]
    tree = scenario.repo_state()["commits"][main]["tree"]
    repository = body["data"]["repository"]
    assert status == 200 and "errors" not in body
    assert repository["head"]["target"] == {"oid": main, "tree": {"oid": tree}}
    assert repository["docker"] == {"text": NODE_SITE, "isBinary": False, "byteSize": len(NODE_SITE.encode())}
    assert repository["missing"] is None
    assert repository["dir"] == {"entries": [{"name": "workflows", "type": "tree"}]}


def test_graphql_github_does_not_have_is_refused(sandbox, scenario):
    token = token_for(sandbox, scenario)
    owner, name = scenario.repo.split("/")
    documents = {
        "field": "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { files } }",
        "argument": 'query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) '
                    '{ ref(name: "main") { name } } }',
        "type": "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) "
                "{ object(expression: \"main:Dockerfile\") { ... on File { text } } } }",
        "syntax": "query { repository(owner: ",
    }
    for kind, document in documents.items():
        status, body, _ = graphql(sandbox, token, document, owner=owner, name=name)
        assert status == 200 and "data" not in body and body["errors"][0]["message"], kind
    violations = sandbox.state()["violations"]
    assert any("Cannot query field 'files' on type 'Repository'" in v for v in violations)
    assert any("Unknown argument 'name' on field 'Repository.ref'" in v for v in violations)
    assert any("Unknown type 'File'" in v for v in violations)
    assert any("Syntax Error" in v for v in violations)
    sandbox.setup(clear_violations=True)  # these were on purpose


def test_graphql_repository_out_of_reach_is_not_found(sandbox, scenario):
    other = Scenario(sandbox, {"Dockerfile": NODE_SITE}, log=b"x\n")
    token = token_for(sandbox, scenario)
    owner, name = other.repo.split("/")
    status, body, _ = graphql(sandbox, token, READ_BRANCH, owner=owner, name=name)
    assert status == 200 and body["data"] == {"repository": None}
    assert body["errors"][0]["type"] == "NOT_FOUND" and body["errors"][0]["path"] == ["repository"]
    assert sandbox.state()["violations"] == []  # valid, only not there


def test_query_parameters_are_checked_against_the_published_api(sandbox, scenario):
    token = token_for(sandbox, scenario)
    repo = scenario.repo
    assert call(sandbox, "GET", f"/repos/{repo}/pulls?state=all&sort=updated&per_page=100", token)[0] == 200
    assert sandbox.state()["violations"] == []
    # GitHub answers, ignoring what it does not know: the sandbox answers too, and says so.
    assert call(sandbox, "GET", f"/repos/{repo}/pulls?author=me&state=merged&per_page=lots", token)[0] == 200
    violations = sandbox.state()["violations"]
    assert any("no query parameter 'author'" in v for v in violations)
    assert any("state=merged: 'merged' is not one of" in v for v in violations)
    assert any("per_page=lots: 'lots' is not of type 'integer'" in v for v in violations)
    sandbox.setup(clear_violations=True)  # these were on purpose


def test_documented_answers_for_what_the_app_meets(sandbox):
    big = "x" * ((1 << 20) + 1)
    scenario = Scenario(sandbox, {"Dockerfile": NODE_SITE, "big.txt": big}, log=b"x\n")
    sandbox.setup(pulls=[{"repo": scenario.repo, "head": "feature/y", "title": "A change"}],
                  collaborators=[{"repo": scenario.repo, "login": "mx", "permission": "maintain"}])
    token = token_for(sandbox, scenario)
    repo = scenario.repo
    # Over 1 MB the contents API refuses (other media types would serve it).
    status, body, _ = call(sandbox, "GET", f"/repos/{repo}/contents/big.txt", token)
    assert status == 403 and body["errors"][0]["code"] == "too_large"
    # Every pull request is an issue: listed among them, with its pull_request key.
    status, issues, _ = call(sandbox, "GET", f"/repos/{repo}/issues?state=open", token)
    assert [(i["title"], "pull_request" in i) for i in issues] == [("A change", True)]
    # `permission` is the legacy base role; the role itself is role_name.
    status, body, _ = call(sandbox, "GET", f"/repos/{repo}/collaborators/mx/permission", token)
    assert (body["permission"], body["role_name"]) == ("write", "maintain")
    # maintainer_can_modify is for branches of forks.
    main = scenario.repo_state()["refs"]["heads/main"]
    call(sandbox, "POST", f"/repos/{repo}/git/refs", token, {"ref": "refs/heads/fix", "sha": main})
    status, body, _ = call(sandbox, "POST", f"/repos/{repo}/pulls", token,
                           {"title": "t", "head": "fix", "base": "main", "maintainer_can_modify": True})
    assert status == 422 and body["errors"][0]["field"] == "fork_collab"
    # A tree is read by its SHA or a branch or tag name; a commit SHA is neither.
    tree = scenario.repo_state()["commits"][main]["tree"]
    assert call(sandbox, "GET", f"/repos/{repo}/git/trees/{tree}?recursive=1", token)[1]["sha"] == tree
    assert call(sandbox, "GET", f"/repos/{repo}/git/trees/main", token)[1]["sha"] == tree
    assert call(sandbox, "GET", f"/repos/{repo}/git/trees/{main}", token)[0] == 404
