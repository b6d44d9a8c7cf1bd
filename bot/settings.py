"""Settings from the environment (SPEC section 7), with secrets that never print."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping


class Secret:
    """A secret value: ``reveal()`` gives it; repr and str never do."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):
        raise TypeError("a Secret is not pickled")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message is one line an operator can act on."""


# The three credentials GitHub's manifest flow hands over; without any of them the app starts
# unconfigured and shows its setup page (as Probot does).
CREDENTIALS = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET")
STATUS_TOKEN_MIN = 16  # characters: the status page shows repository names; a short token is guessable


@dataclass(frozen=True)
class Settings:
    app_id: str = ""
    private_key: Secret | None = None
    webhook_secret: Secret | None = None
    port: int = 8080
    api_url: str = "https://api.github.com"
    state_path: str = "docker-build-fixer.sqlite3"
    dry_run: bool = False
    log_cap_bytes: int = 512 << 20
    host: str = "0.0.0.0"
    # PostgreSQL (procrastinate) instead of the embedded SQLite store: web and worker processes
    # apart, any number of each. None keeps everything in one process on SQLite.
    database_url: Secret | None = None
    public_url: str = ""  # how GitHub reaches this deployment (the manifest's webhook and redirect URLs)
    web_url: str = ""  # GitHub's web host, when it is not derived from api_url (GITHUB_WEB_URL)
    org: str = ""  # register the app for this organisation by default (GITHUB_ORG)
    env_file: str = ".env"  # where the setup page writes the credentials GitHub hands over
    status_token: Secret | None = None  # the status page is off without it

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.private_key and self.webhook_secret)

    @property
    def github_web_url(self) -> str:
        """github.com for api.github.com; a GitHub Enterprise Server's https://HOST for
        https://HOST/api/v3; GITHUB_WEB_URL where neither applies (a test double)."""
        if self.web_url:
            return self.web_url.rstrip("/")
        base = self.api_url.rstrip("/")
        if base == "https://api.github.com":
            return "https://github.com"
        if base.endswith("/api/v3"):
            return base[: -len("/api/v3")]
        return base

    @property
    def ghes(self) -> bool:
        """Is this a GitHub Enterprise Server (``https://HOST/api/v3``)? Anything else, a loopback
        sandbox included, counts as github.com."""
        return re.fullmatch(r"https://[^/]+/api/v3/?", self.api_url) is not None

    @property
    def graphql_url(self) -> str:
        """api.github.com/graphql; a GitHub Enterprise Server's /api/v3 becomes /api/graphql."""
        base = self.api_url.rstrip("/")
        if base.endswith("/api/v3"):
            return base[: -len("/v3")] + "/graphql"
        return base + "/graphql"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        common = _common(env)
        if not any(env.get(name, "").strip() for name in CREDENTIALS):
            return cls(**common)  # unconfigured: the setup page registers the app
        secret = env.get("GITHUB_WEBHOOK_SECRET", "")
        if not secret:
            raise SettingsError("GITHUB_WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks")
        app_id = env.get("GITHUB_APP_ID", "").strip()
        if not app_id.isdigit():
            raise SettingsError("GITHUB_APP_ID is not set (the numeric id on the app's settings page)")
        key = env.get("GITHUB_PRIVATE_KEY", "")
        path = env.get("GITHUB_PRIVATE_KEY_PATH", "")
        if not key and path:
            try:
                with open(path, encoding="utf-8") as handle:
                    key = handle.read()
            except OSError as exc:
                raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH {path} cannot be read: {exc.strerror}") from None
        return cls(app_id=app_id, private_key=Secret(pem(key)), webhook_secret=Secret(secret), **common)


def pem(key: str) -> str:
    """A PEM key as GitHub hands it over, with literal \\n escapes (one-line env values) undone."""
    key = key.replace("\\n", "\n").strip()
    if "PRIVATE KEY-----" not in key:
        raise SettingsError("GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) does not hold a PEM private key")
    return key + "\n"


def _common(env: Mapping[str, str]) -> dict:
    """The settings that do not depend on whether the app is registered yet."""
    try:
        port = int(env.get("PORT", "8080"))
        cap = int(env.get("LOG_CAP_BYTES", str(512 << 20)))
    except ValueError:
        raise SettingsError("PORT and LOG_CAP_BYTES must be numbers") from None
    public_url = env.get("PUBLIC_URL", "").strip().rstrip("/")
    if public_url and not public_url.startswith(("https://", "http://")):
        raise SettingsError(f"PUBLIC_URL must start with https:// (got {public_url[:60]!r})")
    token = env.get("STATUS_TOKEN", "")
    if token and len(token) < STATUS_TOKEN_MIN:
        raise SettingsError(f"STATUS_TOKEN is too short: use at least {STATUS_TOKEN_MIN} random characters")
    database_url = env.get("DATABASE_URL", "").strip()
    if database_url and not database_url.startswith(("postgresql://", "postgres://")):
        raise SettingsError("DATABASE_URL must be a postgresql:// URL (leave it unset for the embedded SQLite store)")
    return dict(
        port=port, log_cap_bytes=cap, host=env.get("HOST", "0.0.0.0"),
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        state_path=env.get("STATE_PATH", "docker-build-fixer.sqlite3"),
        dry_run=env.get("DRY_RUN", "").strip().lower() in ("1", "true", "yes"),
        public_url=public_url, web_url=env.get("GITHUB_WEB_URL", "").strip().rstrip("/"),
        org=env.get("GITHUB_ORG", "").strip(), env_file=env.get("ENV_FILE", ".env"),
        status_token=Secret(token) if token else None,
        database_url=Secret(database_url) if database_url else None,
    )
