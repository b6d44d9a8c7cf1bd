"""The setup page: an unregistered deployment registers itself with GitHub's manifest flow
(the sandbox stands in for github.com's page and the conversion endpoint), writes its
credentials to the env file and serves webhooks with them without a restart."""

import asyncio
import html
import json
import os
import re
import stat
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.app import envfile, manifest
from bot.github import API_VERSION
from bot.app.server import APP_KEY, create_app
from bot.settings import Secret, Settings, SettingsError

from .github import SECRET, app_key, signed

PUBLIC = "http://dbf.example.test"  # http: the test client does not send Secure cookies


@pytest.fixture
async def fresh(aiohttp_client, sandbox, tmp_path):
    """The app as it starts before it is registered: no id, no key, no webhook secret."""
    settings = Settings(api_url=sandbox.base_url, web_url=sandbox.web_url, public_url=PUBLIC,
                        env_file=str(tmp_path / ".env"), state_path=str(tmp_path / "state.sqlite3"))
    return await aiohttp_client(create_app(settings))


def setup_form(text: str) -> tuple[str, dict]:
    """The form a person sees on the setup page: where it posts, and the manifest it carries."""
    action = re.search(r'<form method="post" action="([^"]+)"', text).group(1)
    value = re.search(r'<input type="hidden" name="manifest" value="([^"]*)"', text).group(1)
    return html.unescape(action), json.loads(html.unescape(value))


async def github_creates_the_app(sandbox, action: str, manifest_: dict, name: str) -> str:
    """What the person does on GitHub: post the manifest, name the app, confirm. Returns where
    GitHub redirects back to."""
    async with aiohttp.ClientSession() as session:
        async with session.post(action, data={"manifest": json.dumps(manifest_)}) as page:
            assert page.status == 200, await page.text()
            text = await page.text()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', text))
        fields = {k: html.unescape(v) for k, v in fields.items()}
        async with session.post(sandbox.web_url + "/settings/apps", data={**fields, "name": name},
                                allow_redirects=False) as created:
            assert created.status == 302, await created.text()
            return created.headers["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    return f"{parts.path}?{parts.query}"


async def test_the_setup_page_posts_this_deployments_manifest(fresh, sandbox):
    response = await fresh.get("/")
    assert response.status == 200
    text = await response.text()
    assert "Set up docker-build-fixer" in text and "<script" not in text
    action, posted = setup_form(text)
    assert action.startswith(sandbox.web_url + "/settings/apps/new?state=")
    assert posted["hook_attributes"] == {"url": PUBLIC + "/webhooks", "active": True}
    assert posted["redirect_url"] == PUBLIC + "/setup/callback"
    app_yml = manifest.app_yml()
    assert posted["default_permissions"] == app_yml["default_permissions"]
    assert posted["default_events"] == app_yml["default_events"] and posted["name"] == app_yml["name"]
    cookie = response.cookies["dbf_setup_state"]
    assert cookie["httponly"] and cookie["path"] == "/setup/callback"
    assert parse_qs(urlsplit(action).query)["state"] == [cookie.value]
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none': no scripts

    organisation = await (await fresh.get("/?org=acme-corp")).text()
    assert setup_form(organisation)[0].startswith(sandbox.web_url + "/organizations/acme-corp/settings/apps/new?")
    bad = await fresh.get("/?org=<b>x</b>")
    assert bad.status == 400 and "&lt;b&gt;x&lt;/b&gt;" in await bad.text()


async def test_two_clicks_register_the_app_and_it_serves_webhooks(fresh, sandbox, tmp_path):
    app = fresh.server.app[APP_KEY]
    body, headers = signed({"zen": "not yet"}, "ping")
    assert (await fresh.post("/webhooks", data=body, headers=headers)).status == 503

    action, posted = setup_form(await (await fresh.get("/")).text())
    location = await github_creates_the_app(sandbox, action, posted, "dbf-setup-test")
    page = await fresh.get(callback_path(location))
    text = await page.text()
    assert page.status == 200, text
    created = next(a for a in sandbox.state()["apps"] if a["slug"] == "dbf-setup-test")
    assert "dbf-setup-test is registered" in text
    assert f'href="{sandbox.web_url}/apps/dbf-setup-test/installations/new"' in text

    # The credentials, in a file only this user can read, never on the page.
    env_path = tmp_path / ".env"
    assert stat.S_IMODE(os.stat(env_path).st_mode) == 0o600
    written = envfile.load(str(env_path))
    assert written["GITHUB_APP_ID"] == str(created["id"])
    assert written["GITHUB_PRIVATE_KEY"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert written["GITHUB_WEBHOOK_SECRET"] not in text and "PRIVATE KEY" not in text
    assert Settings.from_env(written).configured

    # Serving webhooks with them at once: the new secret is required, the old one is refused.
    assert app.settings.configured and app.settings.app_id == str(created["id"])
    body, headers = signed({"zen": "hello"}, "ping", secret=written["GITHUB_WEBHOOK_SECRET"])
    assert (await fresh.post("/webhooks", data=body, headers=headers)).status == 200
    body, headers = signed({"zen": "hello"}, "ping", secret=SECRET)
    assert (await fresh.post("/webhooks", data=body, headers=headers)).status == 401
    # The app reads its own slug with its new key (GET /app, JWT signed by the handed-over key).
    for _ in range(200):
        if app.handle == "dbf-setup-test":
            break
        await asyncio.sleep(0.05)
    assert app.handle == "dbf-setup-test"

    # Once configured the setup routes are gone.
    assert (await fresh.get(callback_path(location))).status == 404
    assert (await fresh.get("/")).status == 404  # and no STATUS_TOKEN: no status page either
    assert sandbox.state()["violations"] == []


async def test_a_forged_used_or_wrong_callback_gets_a_clear_page(fresh, sandbox):
    forged = await fresh.get("/setup/callback?code=abc&state=made-up")
    assert forged.status == 400 and "did not start here" in await forged.text()

    action, posted = setup_form(await (await fresh.get("/")).text())
    location = await github_creates_the_app(sandbox, action, posted, "dbf-forged-test")
    query = parse_qs(urlsplit(location).query)
    # The right state with someone else's code: GitHub refuses the code.
    wrong = await fresh.get(f"/setup/callback?code=0123456789abcdef&state={query['state'][0]}")
    text = await wrong.text()
    assert wrong.status == 400 and "GitHub did not accept the code" in text and "Traceback" not in text
    # That state is spent: the real code cannot ride on it any more.
    again = await fresh.get(callback_path(location))
    assert again.status == 400 and "did not start here" in await again.text()
    assert not fresh.server.app[APP_KEY].settings.configured

    # A state from this server but from another browser (no cookie): refused.
    action, posted = setup_form(await (await fresh.get("/")).text())
    location = await github_creates_the_app(sandbox, action, posted, "dbf-forged-test-2")
    fresh.session.cookie_jar.clear()
    other_browser = await fresh.get(callback_path(location))
    assert other_browser.status == 400
    # A used code: exchanged once (here, directly), then the callback's exchange fails cleanly.
    action, posted = setup_form(await (await fresh.get("/")).text())
    location = await github_creates_the_app(sandbox, action, posted, "dbf-forged-test-3")
    code = parse_qs(urlsplit(location).query)["code"][0]
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sandbox.base_url}/app-manifests/{code}/conversions",
                                headers={"X-GitHub-Api-Version": API_VERSION}) as exchanged:
            assert exchanged.status == 201
    used = await fresh.get(callback_path(location))
    assert used.status == 400 and "used already or has expired" in await used.text()
    assert not fresh.server.app[APP_KEY].settings.configured


def test_github_hosts_for_the_manifest_page():
    assert Settings().github_web_url == "https://github.com"
    ghes = Settings(api_url="https://ghe.example.com/api/v3")
    assert ghes.github_web_url == "https://ghe.example.com"
    assert manifest.creation_url(ghes.github_web_url, "s1", "platform") == \
        "https://ghe.example.com/organizations/platform/settings/apps/new?state=s1"
    assert manifest.creation_url("https://github.com", "s2") == "https://github.com/settings/apps/new?state=s2"
    assert Settings(api_url="http://127.0.0.1:1", web_url="http://127.0.0.1:2/").github_web_url == "http://127.0.0.1:2"


def test_settings_start_unconfigured_only_when_no_credential_is_set():
    settings = Settings.from_env({"PUBLIC_URL": "https://x.example/", "STATUS_TOKEN": "t" * 20})
    assert not settings.configured and settings.webhook_secret is None
    assert settings.public_url == "https://x.example" and settings.status_token == Secret("t" * 20)
    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET is not set"):
        Settings.from_env({"GITHUB_APP_ID": "1"})  # half a configuration is a mistake, not a setup
    with pytest.raises(SettingsError, match="STATUS_TOKEN is too short"):
        Settings.from_env({"STATUS_TOKEN": "short"})
    with pytest.raises(SettingsError, match="PUBLIC_URL must start with https://"):
        Settings.from_env({"PUBLIC_URL": "dbf.example.com"})


def test_the_env_file_keeps_other_lines_and_is_private(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# deployment\nPORT=9000\nGITHUB_APP_ID=1\n")
    path.chmod(0o644)
    envfile.save(str(path), {"GITHUB_APP_ID": "77", "GITHUB_PRIVATE_KEY": 'a "b"\n\\c\n'})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("# deployment\nPORT=9000\n")
    assert envfile.load(str(path)) == {"PORT": "9000", "GITHUB_APP_ID": "77", "GITHUB_PRIVATE_KEY": 'a "b"\n\\c\n'}
    assert envfile.merged_environment(str(path), {"PORT": "8080"})["PORT"] == "8080"  # the environment wins
    assert envfile.load(str(tmp_path / "absent")) == {}


def test_serve_reads_the_env_file_and_url(tmp_path):
    from bot.cli import CliError, serve_settings

    env_file = tmp_path / ".env"
    envfile.save(str(env_file), {"GITHUB_APP_ID": "31", "GITHUB_PRIVATE_KEY": app_key()[0],
                                 "GITHUB_WEBHOOK_SECRET": "from-the-file", "PORT": "9001"})
    settings = serve_settings({"ENV_FILE": str(env_file), "PORT": "9002"}, "https://dbf.example.org/")
    assert settings.configured and settings.app_id == "31" and settings.webhook_secret == Secret("from-the-file")
    assert settings.port == 9002 and settings.public_url == "https://dbf.example.org"
    unregistered = serve_settings({"ENV_FILE": str(tmp_path / "absent.env")})
    assert not unregistered.configured
    with pytest.raises(CliError, match="GITHUB_WEBHOOK_SECRET is not set"):
        serve_settings({"ENV_FILE": str(tmp_path / "absent.env"), "GITHUB_APP_ID": "31"})


async def test_with_a_status_token_only_its_holder_may_register(aiohttp_client, sandbox, tmp_path):
    token = "setup-guard-token-0123456789"
    settings = Settings(api_url=sandbox.base_url, web_url=sandbox.web_url, public_url=PUBLIC,
                        env_file=str(tmp_path / ".env"), state_path=str(tmp_path / "state.sqlite3"),
                        status_token=Secret(token))
    fresh = await aiohttp_client(create_app(settings))
    anonymous = await fresh.get("/")
    assert anonymous.status == 401 and "manifest" not in await anonymous.text()
    assert (await fresh.post("/login", data={"token": token}, allow_redirects=False)).status == 303
    action, posted = setup_form(await (await fresh.get("/")).text())
    location = await github_creates_the_app(sandbox, action, posted, "dbf-guarded-test")
    assert (await fresh.get(callback_path(location))).status == 200
    assert fresh.server.app[APP_KEY].settings.configured


async def test_github_down_then_a_reload_finishes_and_an_unwritable_env_file_is_said(aiohttp_client, sandbox,
                                                                                      tmp_path):
    settings = Settings(api_url=sandbox.base_url, web_url=sandbox.web_url, public_url=PUBLIC,
                        env_file=str(tmp_path / "no-such-directory" / ".env"),
                        state_path=str(tmp_path / "state.sqlite3"))
    fresh = await aiohttp_client(create_app(settings))
    action, posted = setup_form(await (await fresh.get("/")).text())
    location = await github_creates_the_app(sandbox, action, posted, "dbf-outage-test")
    code = parse_qs(urlsplit(location).query)["code"][0]
    sandbox.setup(faults=[{"match": f"POST /app-manifests/{code}/", "status": 502, "times": 4}])
    down = await fresh.get(callback_path(location))
    assert down.status == 502 and "GitHub could not be reached" in await down.text()
    reloaded = await fresh.get(callback_path(location))  # same state, same cookie, same code
    text = await reloaded.text()
    assert reloaded.status == 200 and "dbf-outage-test is registered" in text
    assert "could not be written" in text and "No such file or directory" in text
    assert fresh.server.app[APP_KEY].settings.configured  # serving with them until it stops
