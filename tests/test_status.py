"""The status page: off without STATUS_TOKEN; with it, the token is required (a bearer header,
or a login form that sets an HttpOnly cookie), and an anonymous visitor learns nothing."""

import re
import time

import pytest

from bot.app.server import APP_KEY, create_app
from bot.settings import Secret, Settings

from .github import APP_ID, SECRET, Scenario, app_key
from .test_app import LOG, STOREFRONT, deliver, settled

TOKEN = "status-token-0123456789abcdef"


@pytest.fixture
async def operator(aiohttp_client, sandbox, tmp_path):
    settings = Settings(app_id=str(APP_ID), private_key=Secret(app_key()[0]), webhook_secret=Secret(SECRET),
                        api_url=sandbox.base_url, state_path=str(tmp_path / "state.sqlite3"),
                        web_url=sandbox.web_url, status_token=Secret(TOKEN))
    return await aiohttp_client(create_app(settings))


async def test_off_without_a_token(client):
    for path in ("/", "/login"):
        response = await client.get(path)
        assert response.status == 404 and "Not found" in await response.text()
    assert (await client.post("/login", data={"token": "anything at all"})).status == 404


async def test_the_token_holder_sees_real_jobs_and_nobody_else_sees_anything(operator, sandbox):
    private = Scenario(sandbox, STOREFRONT, log=LOG, private=True)
    assert (await deliver(operator, private.payload())).status == 202
    await settled(operator)
    pull = next(i for i in private.repo_state()["issues"].values() if i.get("pull"))

    anonymous = await operator.get("/")
    text = await anonymous.text()
    assert anonymous.status == 401 and 'name="token"' in text
    for secret in (private.repo, "pull-request", "workflow_run", SECRET, TOKEN):
        assert secret not in text
    assert (await operator.get("/", headers={"Authorization": "Bearer " + TOKEN[:-1] + "X"})).status == 401
    assert (await operator.get("/", cookies={"dbf_status": f"{int(time.time())}.{'0' * 64}"})).status == 401

    shown = await operator.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
    page = await shown.text()
    assert shown.status == 200 and "Last deliveries" in page
    row = re.search(r"<tr>\s*<td>[^<]+UTC</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>.*?</tr>", page, re.S)
    assert row.groups() == (private.repo, "workflow_run")
    assert '<span class="pill good">pull-request</span>' in row.group(0)
    assert f'href="{sandbox.web_url}/{private.repo}/pull/{pull_number(private)}"' in row.group(0)
    assert "build-on-buildplatform" in row.group(0)
    assert re.search(r'<div class="n">1</div><div class="l">installations seen</div>', page)
    assert re.search(r'<div class="n">0</div><div class="l">jobs waiting</div>', page)
    assert shown.headers["Cache-Control"] == "no-store"
    assert pull["title"]


def pull_number(scenario) -> int:
    return next(n for n, i in scenario.repo_state()["issues"].items() if i.get("pull"))


async def test_login_form_sets_an_httponly_cookie(operator):
    wrong = await operator.post("/login", data={"token": "not-the-token-at-all"})
    assert wrong.status == 401 and "That token is not right." in await wrong.text()
    signed_in = await operator.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert signed_in.status == 303 and signed_in.headers["Location"] == "/"
    cookie = signed_in.cookies["dbf_status"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and TOKEN not in cookie.value
    assert (await operator.get("/")).status == 200  # the client's cookie jar sends it
    out = await operator.post("/logout", allow_redirects=False)
    assert out.status == 303
    assert (await operator.get("/")).status == 401
    # A session cookie older than its lifetime no longer opens the page.
    from bot.app.web import status
    old = int(time.time()) - status.SESSION_SECONDS - 5
    assert (await operator.get("/", cookies={"dbf_status": status._session(Secret(TOKEN), old)})).status == 401


async def test_what_the_store_holds_is_escaped(operator):
    app = operator.server.app[APP_KEY]
    app.store.add("d-1", "workflow_run", {"repository": {"full_name": "acme/<b>x</b>"}, "installation": {"id": 5}})
    app.store.finish("d-1", "error", "<script>alert(1)</script>")
    app.store.add("d-2", "issue_comment", {"repository": {"full_name": "acme/y"}, "installation": {"id": 6}})
    app.store.finish("d-2", "failed", "rate limited: <i>403</i>")
    page = await (await operator.get("/", headers={"Authorization": f"Bearer {TOKEN}"})).text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "acme/&lt;b&gt;x&lt;/b&gt;" in page and "rate limited: &lt;i&gt;403&lt;/i&gt;" in page
    failures = re.search(r"Failures by reason.*?</table>", page, re.S).group(0)
    assert failures.count("<td>1</td>") == 2
    assert re.search(r'<div class="n">2</div><div class="l">installations seen</div>', page)


def test_store_read_methods(tmp_path):
    from bot.app.store import JobStore

    store = JobStore(str(tmp_path / "s.sqlite3"))
    for n in range(3):
        store.add(f"d{n}", "workflow_run", {"repository": {"full_name": f"o/r{n}"}, "installation": {"id": n % 2}})
    store.finish("d0", "pull-request", "pin-qemu", 7)
    store.finish("d1", "failed", "GitHub said 404")
    store.retry("d2", "rate limited", delay=60)
    recent = store.recent(10)
    assert [j.delivery for j in recent] == ["d2", "d1", "d0"]
    assert (recent[2].outcome, recent[2].detail, recent[2].pull) == ("pull-request", "pin-qemu", 7)
    assert (recent[0].status, recent[0].outcome, recent[0].detail) == ("pending", "retrying", "rate limited")
    assert store.failures_by_reason() == [("GitHub said 404", 1)]
    assert store.failures_by_reason(since=time.time() + 10) == []
    assert store.installation_count() == 2
    store.close()
