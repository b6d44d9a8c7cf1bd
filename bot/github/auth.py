"""App JWTs and installation tokens (cached until shortly before they expire)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from cachetools import TTLCache
from gidgethub import apps

from ..settings import Secret, Settings

REFRESH_MARGIN = 300  # seconds before expiry when a cached token is replaced


@dataclass(frozen=True)
class InstallationToken:
    token: Secret
    expires_at: float
    permissions: dict

    def fresh(self) -> bool:
        return self.expires_at - time.time() > REFRESH_MARGIN


class AppAuth:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._tokens: TTLCache = TTLCache(maxsize=10_000, ttl=3600)

    def jwt(self) -> str:
        return apps.get_jwt(app_id=self.settings.app_id, private_key=self.settings.private_key.reveal())

    def forget(self, installation_id: int) -> None:
        for key in [k for k in self._tokens if k[0] == installation_id]:
            self._tokens.pop(key, None)

    async def token(self, gh, installation_id: int, repo: str | None = None) -> InstallationToken:
        """An installation token, scoped to one repository where one is named (least privilege)."""
        key = (installation_id, repo)
        cached = self._tokens.get(key)
        if cached is not None and cached.fresh():
            return cached
        body = {"repositories": [repo.split("/", 1)[1]]} if repo else {}
        data = await gh.post(f"/app/installations/{installation_id}/access_tokens", data=body, jwt=self.jwt())
        expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")).timestamp()
        token = InstallationToken(Secret(data["token"]), expires, dict(data.get("permissions") or {}))
        self._tokens[key] = token
        return token
