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


@dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: Secret
    webhook_secret: Secret
    port: int = 8080
    api_url: str = "https://api.github.com"
    state_path: str = "docker-build-fixer.sqlite3"
    dry_run: bool = False
    log_cap_bytes: int = 512 << 20
    host: str = "0.0.0.0"

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
        key = key.replace("\\n", "\n").strip()
        if "PRIVATE KEY-----" not in key:
            raise SettingsError("GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) does not hold a PEM private key")
        try:
            port = int(env.get("PORT", "8080"))
            cap = int(env.get("LOG_CAP_BYTES", str(512 << 20)))
        except ValueError:
            raise SettingsError("PORT and LOG_CAP_BYTES must be numbers") from None
        return cls(
            app_id=app_id, private_key=Secret(key + "\n"), webhook_secret=Secret(secret), port=port,
            api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
            state_path=env.get("STATE_PATH", "docker-build-fixer.sqlite3"),
            dry_run=env.get("DRY_RUN", "").strip().lower() in ("1", "true", "yes"),
            log_cap_bytes=cap, host=env.get("HOST", "0.0.0.0"),
        )
