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
from . import APP_KEY, guarded, not_found, render, texts
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


def _failed(text: tuple[str, str], status: int = 400, keep_cookie: bool = False, **values) -> web.Response:
    title, message = text
    response = render("setup_failed.html", status=status, title=title, message=message.format(**values))
    if not keep_cookie:
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
        return _failed(texts.NOT_STARTED_HERE)
    if not CODE_RE.match(code):
        return _failed(texts.NO_CODE)
    async with flow.lock:  # two callbacks at once: the second finds the app configured
        if app.settings.configured:
            return not_found()
        try:
            data = await app.gh().post(f"/app-manifests/{code}/conversions", data=b"")
        except BadRequest as exc:
            return _failed(texts.CODE_REFUSED, answer=int(exc.status_code))
        except (GitHubBroken, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            flow.states[state] = True  # the code was not used: reloading tries it again
            return _failed(texts.GITHUB_UNREACHABLE, 502, keep_cookie=True, error=type(exc).__name__)
        credentials = _credentials(data)
        if credentials is None:
            return _failed(texts.NOT_AN_APP, 502)
        app_id, key, secret, html_url = credentials
        written = await _write_env(app.settings.env_file, app_id, key, secret)
        app.configure(app_id, Secret(key), Secret(secret))
    where = f"written to {app.settings.env_file}" if written is None else f"NOT written ({written})"
    log.info("registered the GitHub App", extra={"detail": f"id {app_id} ({data.get('slug')}), credentials {where}"})
    response = render("installed.html", name=data.get("name") or data.get("slug") or "the app",
                      html_url=html_url, install_url=manifest.install_url(html_url),
                      env_file=app.settings.env_file, write_error=written)
    response.del_cookie(COOKIE, path=CALLBACK)
    return response


def _credentials(data) -> tuple[int, str, str, str] | None:
    """id, private key, webhook secret and page of the app GitHub created, if it says so."""
    try:
        app_id, key = int(data["id"]), pem(str(data["pem"]))
        secret, html_url = str(data["webhook_secret"] or ""), str(data["html_url"])
    except (KeyError, TypeError, ValueError, SettingsError):
        return None
    if not secret or not html_url.startswith(("https://", "http://")):
        return None  # no webhook secret, or a page address that is not one
    return app_id, key, secret, html_url


async def _write_env(path: str, app_id: int, key: str, secret: str) -> str | None:
    """Write the credentials; None when written, else why not (the app still runs with them)."""
    try:
        await asyncio.to_thread(envfile.save, path, {"GITHUB_APP_ID": str(app_id), "GITHUB_PRIVATE_KEY": key,
                                                     "GITHUB_WEBHOOK_SECRET": secret})
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None
