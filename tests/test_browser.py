"""Operators in two clicks, in a real browser: headless Chromium registers a fresh deployment
(the real `python -m bot serve`, started with no credentials) through the setup page and the
sandbox's stand-in for github.com's manifest page, the app serves signed deliveries with the
credentials it received, and the status page shows them to the holder of the token. Every page
is saved as a screenshot (DBF_SCREENSHOTS)."""

import json
import os
import signal
import stat
import urllib.error
import urllib.request
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from bot.app import envfile

from .browser import chromium, full_page_screenshot, screenshot_dir
from .github import Scenario, free_port, setup_env, signed, start_server, wait_for
from .test_app import LOG, STOREFRONT

TOKEN = "browser-status-token-7f3a9c2e41d8"


def get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, payload: dict, secret: str) -> int:
    body, headers = signed(payload, "workflow_run", secret=secret)
    request = urllib.request.Request(url + "/webhooks", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def sign_in(browser) -> None:
    field = browser.find_element(By.ID, "token")
    field.clear()
    field.send_keys(TOKEN)
    browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    # Wait on the document's title, not on an element: an element of the old page can be
    # detached while the next page loads (chromedriver then answers "stale element" or "node
    # does not belong to the document", both seen under load).
    WebDriverWait(browser, 30).until(lambda b: not b.title.startswith("Sign in"))


def stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


def test_two_clicks_then_the_status_page_in_chromium(sandbox, tmp_path):
    shots = screenshot_dir(tmp_path / "screenshots")
    port = free_port()
    env_file = tmp_path / "deploy" / ".env"
    env_file.parent.mkdir()
    public = f"http://127.0.0.1:{port}"
    env = setup_env(sandbox, tmp_path / "state.sqlite3", port, PUBLIC_URL=public, ENV_FILE=str(env_file),
                    STATUS_TOKEN=TOKEN)
    url, process = start_server(sandbox, tmp_path / "state.sqlite3", port, tmp_path / "setup.log", env=env)
    assert json.loads(get(url + "/healthz")[1])["status"] == "setup"
    name = f"dbf-browser-{uuid.uuid4().hex[:6]}"
    browser = chromium(tmp_path / "chromium-profile")
    wait = WebDriverWait(browser, 30)
    try:
        # 1. With STATUS_TOKEN set, even the setup page is for its holder only.
        browser.get(url + "/")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in"
        assert "manifest" not in browser.page_source
        full_page_screenshot(browser, shots / "1-sign-in.png")
        sign_in(browser)

        # 2. The setup page: what the app is, and one button.
        assert browser.find_element(By.TAG_NAME, "h1").text == "Set up docker-build-fixer"
        page = browser.find_element(By.TAG_NAME, "main").text
        assert "opens a pull\nrequest with the fix" in page or "opens a pull request with the fix" in page
        assert f"{public}/webhooks" in page and "workflows: write" in page
        full_page_screenshot(browser, shots / "2-setup.png")
        browser.find_element(By.XPATH, "//button[normalize-space()='Register the GitHub App on GitHub']").click()

        # 3. "github.com": the manifest page, where the person names the app and confirms.
        wait.until(seen.title_contains("Create GitHub App"))
        assert browser.current_url.startswith(sandbox.web_url + "/settings/apps/new?state=")
        assert f"{public}/webhooks" in browser.find_element(By.TAG_NAME, "main").text
        field = browser.find_element(By.ID, "name")
        field.clear()
        field.send_keys(name)
        full_page_screenshot(browser, shots / "3-github-manifest-page.png")
        browser.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Create GitHub App')]").click()

        # 4. Back at the app: registered, serving, and pointing at the installation page.
        wait.until(seen.text_to_be_present_in_element((By.TAG_NAME, "h1"), f"{name} is registered"))
        assert browser.current_url.startswith(f"{public}/setup/callback?code=")
        install = browser.find_element(By.LINK_TEXT, f"Install {name} on repositories")
        assert install.get_attribute("href") == f"{sandbox.web_url}/apps/{name}/installations/new"
        full_page_screenshot(browser, shots / "4-install.png")
        credentials = envfile.load(str(env_file))
        assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
        assert credentials["GITHUB_WEBHOOK_SECRET"] not in browser.page_source
        assert json.loads(get(url + "/healthz")[1])["status"] == "ok"
        assert get(browser.current_url)[0] == 404  # the setup routes are gone

        # Deliveries signed with the secret GitHub handed over: one becomes a pull request, one
        # meets a GitHub that refuses the app (a failure with its reason).
        secret = credentials["GITHUB_WEBHOOK_SECRET"]
        fixed = Scenario(sandbox, STOREFRONT, log=LOG, private=True)
        refused = Scenario(sandbox, STOREFRONT, log=LOG)
        sandbox.setup(faults=[{"match": f"GET /repos/{refused.repo}/actions/runs/", "status": 403, "times": 1,
                               "message": "Resource not accessible by integration"}])
        assert post(url, fixed.payload(), secret) == 202
        assert post(url, refused.payload(), secret) == 202
        pull = wait_for(lambda: [n for n, i in fixed.repo_state()["issues"].items() if i.get("pull")], timeout=60)[0]
        wait_for(lambda: json.loads(get(url + "/healthz")[1])["jobs"] == {"done": 2}, timeout=60)
        author = next(i for i in fixed.repo_state()["issues"].values() if i.get("pull"))["user"]
        assert author == f"{name}[bot]"  # written with the token of the app just registered

        # 5. A visitor without the token gets the sign-in form and nothing else.
        browser.delete_all_cookies()
        browser.get(url + "/")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in"
        for hidden in (fixed.repo, refused.repo, "workflow_run", "pull-request", secret, TOKEN):
            assert hidden not in browser.page_source
        browser.find_element(By.ID, "token").send_keys("not-the-status-token")
        browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
        wait.until(seen.text_to_be_present_in_element((By.CLASS_NAME, "error"), "That token is not right."))
        full_page_screenshot(browser, shots / "5-sign-in-wrong-token.png")
        sign_in(browser)

        # 6. The status page: what the app did, as a person reads it.
        assert browser.find_element(By.TAG_NAME, "h1").text == "Status"
        rows = {row.find_elements(By.TAG_NAME, "td")[1].text: [td.text for td in row.find_elements(By.TAG_NAME, "td")]
                for row in browser.find_elements(By.XPATH, "//h2[.='Last deliveries']/following-sibling::table//tr[td]")}
        assert rows[fixed.repo][2:] == ["workflow_run", "pull-request", f"#{pull} build-on-buildplatform"]
        assert rows[refused.repo][2:4] == ["workflow_run", "failed"]
        assert "Resource not accessible by integration" in rows[refused.repo][4]
        link = browser.find_element(By.LINK_TEXT, f"#{pull}")
        assert link.get_attribute("href") == f"{sandbox.web_url}/{fixed.repo}/pull/{pull}"
        tiles = {tile.find_element(By.CLASS_NAME, "l").text: tile.find_element(By.CLASS_NAME, "n").text
                 for tile in browser.find_elements(By.CLASS_NAME, "tile")}
        assert tiles == {"jobs waiting": "0", "jobs running": "0", "jobs done": "2", "installations seen": "2"}
        failures = browser.find_element(By.XPATH, "//h2[starts-with(., 'Failures by reason')]/following-sibling::table")
        assert "Resource not accessible by integration" in failures.text
        full_page_screenshot(browser, shots / "6-status.png")
        assert browser.get_cookie("dbf_status")["httpOnly"]
    finally:
        browser.quit()
        stop(process)
    assert sandbox.state()["violations"] == []
    posted = [p for p in sandbox.state()["manifest_posts"] if p["manifest"]["redirect_url"] == f"{public}/setup/callback"]
    assert len(posted) == 1 and posted[0]["errors"] == []

    # Restarted with nothing in its environment but ENV_FILE, the app is registered: the
    # credentials come from the file the setup page wrote.
    url, process = start_server(sandbox, tmp_path / "state.sqlite3", port, tmp_path / "restart.log", env=env)
    try:
        assert json.loads(get(url + "/healthz")[1])["status"] == "ok"
        assert get(url + "/setup/callback?code=x&state=y")[0] == 404
        assert get(url + "/", Authorization=f"Bearer {TOKEN}")[0] == 200
    finally:
        stop(process)
    log = (tmp_path / "setup.log").read_text() + (tmp_path / "restart.log").read_text()
    assert '"msg": "registered the GitHub App"' in log
    for secret in (credentials["GITHUB_WEBHOOK_SECRET"], credentials["GITHUB_PRIVATE_KEY"].splitlines()[1], TOKEN):
        assert secret not in log
