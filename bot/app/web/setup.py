"""The setup page (only while the app has no credentials): one button registers the app with
GitHub's manifest flow; GitHub sends the person back to ``/setup/callback`` with a temporary
code, which the app exchanges for its id, private key and webhook secret, writes to the env
file and starts using at once. Once configured, these routes answer 404."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets

import aiohttp
from aiohttp import web
from cachetools import TTLCache
from gidgethub import BadRequest, GitHubBroken

from ...settings import Secret, SettingsError, pem
from .. import envfile, manifest
from . import APP_KEY, guarded, not_found, render
from .status import authorised, login_form

log = logging.getLogger("docker-build-fixer")

CALLBACK = manifest.CALLBACK_PATH
COOKIE = "dbf_setup_state"
STATE_TTL = 3600  # seconds; GitHub's manifest codes expire after an hour too
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")  # GitHub's login rules


class SetupFlow:
    """The states handed out (each used once; bounded, since anyone can load the setup page) and
    a lock so that two callbacks at once cannot both register credentials."""

    def __init__(self):
        self.states: TTLCache = TTLCache(maxsize=1000, ttl=STATE_TTL)
        self.lock = asyncio.Lock()


FLOW_KEY: web.AppKey[SetupFlow] = web.AppKey("setup-flow", SetupFlow)


@guarded
async def page(request: web.Request) -> web.Response:
    settings = request.app[APP_KEY].settings
    if settings.status_token is not None and not authorised(request, settings.status_token):
        # Until it is registered, whoever reaches the server could register it: with a token
        # set, only its holder can. (The callback needs no token: its state is bound to the
        # browser that loaded this page.)
        return login_form(request)
    public_url = settings.public_url or f"{request.scheme}://{request.host}"
    org = request.query.get("org", settings.org).strip()
    if org and not ORG_RE.match(org):
        return render("setup.html", status=400, org=org, org_error=True, form_action="",
                      public_url=public_url, guessed=not settings.public_url, github=settings.github_web_url,
                      manifest=None, manifest_json="", action="")
    try:
        app_manifest = manifest.build(public_url)
    except manifest.ManifestError as exc:
        return render("error.html", status=500, title="The app's manifest cannot be read", message=str(exc))
    state = secrets.token_urlsafe(24)
    request.app[FLOW_KEY].states[state] = True
    action = manifest.creation_url(settings.github_web_url, state, org)
    response = render("setup.html", form_action=settings.github_web_url, org=org, org_error=False,
                      public_url=public_url, guessed=not settings.public_url, github=settings.github_web_url,
                      manifest=app_manifest, manifest_json=json.dumps(app_manifest), action=action)
    # The state also rides in a cookie, so the callback must come back to the browser that
    # started the flow (SameSite=Lax: sent on GitHub's top-level redirect back, not on posts).
    response.set_cookie(COOKIE, state, max_age=STATE_TTL, path=CALLBACK, httponly=True, samesite="Lax",
                        secure=public_url.startswith("https://"))
    return response


def _failed(title: str, message: str, status: int = 400) -> web.Response:
    response = render("setup_failed.html", status=status, title=title, message=message)
    response.del_cookie(COOKIE, path=CALLBACK)
    return response


@guarded
async def callback(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    if app.settings.configured:
        return not_found()
    state, code = request.query.get("state", ""), request.query.get("code", "")
    cookie = request.cookies.get(COOKIE, "")
    flow = request.app[FLOW_KEY]
    if not state or flow.states.pop(state, None) is None or not hmac.compare_digest(state.encode(), cookie.encode()):
        return _failed("This link did not start here",
                       "The setup link is not one this server handed out, was used already, or is more than an "
                       "hour old. Start again from the setup page.")
    if not CODE_RE.match(code):
        return _failed("No code from GitHub", "GitHub's redirect carried no usable code. Start again from the "
                                              "setup page.")
    async with flow.lock:  # two callbacks at once: the second finds the app configured
        if app.settings.configured:
            return not_found()
        try:
            data = await app.gh().post(f"/app-manifests/{code}/conversions", data=b"")
        except BadRequest as exc:
            return _failed("GitHub did not accept the code",
                           f"GitHub answered {exc.status_code}: the code was used already or has expired (codes "
                           "last one hour). Start again from the setup page; if GitHub created an app anyway, "
                           "delete it in its settings.")
        except (GitHubBroken, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return _failed("GitHub could not be reached", f"{type(exc).__name__}. Reload this page to try the "
                                                         "same code again (it stays valid for an hour).", 502)
        try:
            app_id, key = int(data["id"]), pem(str(data["pem"]))
            secret, html_url = str(data["webhook_secret"] or ""), str(data["html_url"])
        except (KeyError, TypeError, ValueError, SettingsError):
            return _failed("GitHub's answer was not an app", "The conversion did not return an id, a private key "
                                                            "and a webhook secret.", 502)
        if not secret or not html_url.startswith(("https://", "http://")):
            return _failed("GitHub's answer was not an app", "The app was created without a webhook secret or "
                                                            "a page address.", 502)
        written = await _write_env(app.settings.env_file, app_id, key, secret)
        app.configure(app_id, Secret(key), Secret(secret))
    log.info("registered the GitHub App", extra={"detail": f"id {app_id}, {data.get('slug')}; credentials "
                                                           f"{'written to ' + app.settings.env_file if written is None else 'NOT written: ' + written}"})
    response = render("installed.html", name=data.get("name") or data.get("slug") or "the app",
                      slug=data.get("slug") or "", html_url=html_url, install_url=manifest.install_url(html_url),
                      env_file=app.settings.env_file, write_error=written)
    response.del_cookie(COOKIE, path=CALLBACK)
    return response


async def _write_env(path: str, app_id: int, key: str, secret: str) -> str | None:
    """Write the credentials; None when written, else why not (the app still runs with them)."""
    try:
        await asyncio.to_thread(envfile.save, path, {"GITHUB_APP_ID": str(app_id), "GITHUB_PRIVATE_KEY": key,
                                                     "GITHUB_WEBHOOK_SECRET": secret})
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None
