"""The GitHub App manifest this deployment registers itself with (GitHub's manifest flow), built
from ``app.yml`` and the deployment's public URL, and where on GitHub to post it. Pure: no I/O
beyond reading app.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from ruamel.yaml import YAML

# Inside the package (package data): an installed app, as in the Docker image, has no source tree
# around it to find the file in.
APP_YML = Path(__file__).resolve().parents[1] / "app.yml"
WEBHOOK_PATH = "/webhooks"
CALLBACK_PATH = "/setup/callback"
# The keys GitHub's manifest flow reads (docs: "GitHub App Manifest parameters").
MANIFEST_KEYS = ("name", "url", "hook_attributes", "redirect_url", "callback_urls", "setup_url", "description",
                 "public", "default_events", "default_permissions", "request_oauth_on_install", "setup_on_update")


class ManifestError(ValueError):
    """app.yml is missing or not a manifest; the message is one line."""


@lru_cache(maxsize=1)
def app_yml(path: Path = APP_YML) -> dict:
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path.name} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not data.get("name") or not isinstance(data.get("default_permissions"), dict):
        raise ManifestError(f"{path.name} is not a GitHub App manifest (name and default_permissions are required)")
    return data


def build(public_url: str, base: dict | None = None) -> dict:
    """app.yml with this deployment's webhook and redirect URLs."""
    base = app_yml() if base is None else base
    manifest = {key: value for key, value in base.items() if key in MANIFEST_KEYS}
    public_url = public_url.rstrip("/")
    manifest["hook_attributes"] = {**(base.get("hook_attributes") or {}), "url": public_url + WEBHOOK_PATH,
                                   "active": True}
    manifest["redirect_url"] = public_url + CALLBACK_PATH
    return manifest


def creation_url(web_url: str, state: str, org: str = "") -> str:
    """GitHub's "register a GitHub App from a manifest" page, for the user or an organisation."""
    web_url = web_url.rstrip("/")
    where = f"/organizations/{quote(org, safe='')}/settings/apps/new" if org else "/settings/apps/new"
    return f"{web_url}{where}?{urlencode({'state': state})}"


def install_url(html_url: str) -> str:
    """Where the app's owner installs it on repositories (the conversion's html_url)."""
    return html_url.rstrip("/") + "/installations/new"
