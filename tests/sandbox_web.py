"""github.com's side of the manifest flow, for the sandbox: the "register a GitHub App from a
manifest" page (for a user or an organisation), which checks the manifest as GitHub documents
it, lets a person name the app, "creates" it (a fresh RSA key, id, slug, webhook secret) and
redirects back to the manifest's redirect_url with a temporary code. The code is exchanged at
the API origin (``POST /app-manifests/{code}/conversions``, in tests/sandbox.py): single use,
valid for an hour, as on GitHub."""

from __future__ import annotations

import gzip
import html
import json
import re
import secrets
import time
from functools import lru_cache
from urllib.parse import urlencode

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openapi_schema_validator import OAS30Validator

from . import contract
from .data import WEBHOOK_SCHEMAS

# GitHub's documented manifest parameters ("GitHub App Manifest parameters").
PARAMETERS = {"name", "url", "hook_attributes", "redirect_url", "callback_urls", "setup_url", "description",
              "public", "default_events", "default_permissions", "request_oauth_on_install", "setup_on_update"}
CODE_TTL = 3600


@lru_cache(maxsize=1)
def webhook_events() -> frozenset[str]:
    """Event names from the published webhook schema (its oneOf lists one definition per event)."""
    with gzip.open(WEBHOOK_SCHEMAS) as handle:
        schema = json.load(handle)
    return frozenset(ref["$ref"].rsplit("/", 1)[1].removesuffix("_event") for ref in schema["oneOf"])


def manifest_errors(manifest) -> list[str]:
    if not isinstance(manifest, dict):
        return ["the manifest is not a JSON object"]
    errors = [f"unknown manifest parameter {key!r}" for key in sorted(set(manifest) - PARAMETERS)]
    if not isinstance(manifest.get("url"), str) or not manifest["url"].startswith(("http://", "https://")):
        errors.append("url (the app's homepage) is required")
    hook = manifest.get("hook_attributes") or {}
    if hook.get("active", True) and not str(hook.get("url", "")).startswith(("http://", "https://")):
        errors.append("hook_attributes.url is required for an active webhook")
    if not str(manifest.get("redirect_url", "")).startswith(("http://", "https://")):
        errors.append("redirect_url is required for the manifest flow")
    permissions = OAS30Validator({"$ref": "urn:github-rest#/components/schemas/app-permissions"},
                                 registry=contract._registry())
    errors += [f"default_permissions: {e.message}" for e in permissions.iter_errors(manifest.get("default_permissions", {}))]
    errors += [f"default_events: {event!r} is not a webhook event" for event in manifest.get("default_events", [])
               if event not in webhook_events()]
    return errors


def _page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, content_type="text/html", text=f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)} · GitHub (sandbox)</title>
<style>body{{font:15px/1.5 sans-serif;margin:0;color:#1f2328}} header{{background:#010409;color:#fff;padding:14px 32px;
font-weight:600}} main{{max-width:760px;margin:28px auto;padding:0 24px}} .box{{border:1px solid #d1d9e0;
border-radius:8px;padding:18px 22px;margin:16px 0}} button{{background:#1f883d;color:#fff;border:0;border-radius:6px;
padding:9px 18px;font:600 15px sans-serif;cursor:pointer}} input{{font:inherit;padding:6px 9px;border:1px solid #d1d9e0;
border-radius:6px;width:320px}} .err{{background:#ffebe9;border-left:4px solid #cf222e;padding:10px 14px}}</style></head>
<body><header>GitHub sandbox</header><main><h1>{html.escape(title)}</h1>{body}</main></body></html>""")


class ManifestPages:
    """github.com's pages of the manifest flow; apps created here are added to the sandbox."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/settings/apps/new", self.new)
        app.router.add_post("/organizations/{org}/settings/apps/new", self.new)
        app.router.add_post("/settings/apps", self.create)
        return app

    async def new(self, request: web.Request) -> web.Response:
        form = await request.post()
        owner = request.match_info.get("org") or "octocat"
        try:
            manifest = json.loads(str(form.get("manifest", "")))
        except ValueError:
            manifest = None
        errors = manifest_errors(manifest)
        self.sandbox.manifest_posts.append({"owner": owner, "state": request.query.get("state"),
                                            "manifest": manifest, "errors": errors})
        if errors:
            items = "".join(f"<li>{html.escape(e)}</li>" for e in errors)
            return _page("Invalid GitHub App manifest", f'<div class="err"><ul>{items}</ul></div>', 422)
        permissions = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>"
                              for k, v in manifest.get("default_permissions", {}).items())
        return _page(f"Create GitHub App for {owner}", f"""
<form method="post" action="/settings/apps">
<div class="box"><label for="name"><b>GitHub App name</b></label><br>
<input id="name" name="name" value="{html.escape(manifest['name'])}"></div>
<div class="box"><b>Webhook URL</b>: {html.escape(manifest['hook_attributes']['url'])}<br>
<b>Permissions</b><ul>{permissions}</ul></div>
<input type="hidden" name="manifest" value="{html.escape(json.dumps(manifest))}">
<input type="hidden" name="owner" value="{html.escape(owner)}">
<input type="hidden" name="state" value="{html.escape(request.query.get('state', ''))}">
<button type="submit">Create GitHub App for {html.escape(owner)}</button></form>""")

    async def create(self, request: web.Request) -> web.Response:
        form = await request.post()
        manifest = json.loads(str(form["manifest"]))
        if manifest_errors(manifest):
            return _page("Invalid GitHub App manifest", "", 422)
        name = str(form.get("name") or manifest["name"]).strip()
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if any(app["slug"] == slug for app in self.sandbox.apps.values()):
            return _page("Name already taken", f'<div class="err">An app named {html.escape(name)} exists.</div>', 422)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        app_id = next(self.sandbox._ids)
        self.sandbox.apps[app_id] = {"id": app_id, "slug": slug, "name": name, "owner": str(form["owner"]),
                                     "public_key": public, "manifest": manifest,
                                     "webhook_secret": secrets.token_hex(20)}
        code = secrets.token_hex(10)
        self.sandbox.manifest_codes[code] = {"app": app_id, "pem": pem, "expires": time.time() + CODE_TTL}
        query = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
        raise web.HTTPFound(f"{manifest['redirect_url']}?{urlencode(query)}")
