"""Hostile input against the real server process: whatever arrives, no 5xx and no traceback."""

import http.client
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .github import signed

EVENTS = st.sampled_from(["workflow_run", "check_run", "pull_request", "issue_comment", "installation", "ping",
                          "push", "", "x" * 300, "workflow_run\r\nX-Injected: 1"])
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                       max_leaves=20)
PAYLOADS = st.one_of(
    st.binary(max_size=2000),
    JSONISH.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"action": st.sampled_from(["completed", "created", "closed", "deleted"]),
                           "workflow_run": JSONISH, "repository": JSONISH, "installation": JSONISH,
                           "pull_request": JSONISH, "comment": JSONISH, "issue": JSONISH}).map(
        lambda v: json.dumps(v).encode()),
)


@st.composite
def requests(draw):
    body = draw(PAYLOADS)
    event = draw(EVENTS)
    sign = draw(st.sampled_from(["valid", "wrong", "missing", "garbage"]))
    _, headers = signed(body, event if "\r" not in event else "push")
    headers = {k: v for k, v in headers.items() if k != "X-GitHub-Event"}
    if "\r" not in event and event:
        headers["X-GitHub-Event"] = event
    if sign == "wrong":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    elif sign == "missing":
        headers.pop("X-Hub-Signature-256")
    elif sign == "garbage":
        headers["X-Hub-Signature-256"] = draw(st.text(alphabet="abc=123:", max_size=30))
    if draw(st.booleans()):
        headers.pop("X-GitHub-Delivery", None)
    headers["Content-Type"] = draw(st.sampled_from(["application/json", "text/plain",
                                                    "application/x-www-form-urlencoded", "application/json; charset=x"]))
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]))
    path = draw(st.sampled_from(["/webhooks", "/webhooks", "/healthz", "/metrics", "/", "/webhooks/../x", "/%00"]))
    return method, path, headers, body


def test_thousands_of_hostile_requests_get_no_5xx(server):
    url, process = server
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    seen = set()

    @settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(requests())
    def one(request):
        nonlocal connection
        method, path, headers, body = request
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read()
        except (ConnectionError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            assert process.poll() is None, "the server died"
            return
        seen.add(response.status)
        assert response.status < 500, (response.status, text[:300])
        assert b"Traceback" not in text

    one()
    assert process.poll() is None
    assert {202, 400, 401} <= seen
