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
        self._tokens.pop(installation_id, None)

    async def token(self, gh, installation_id: int) -> InstallationToken:
        cached = self._tokens.get(installation_id)
        if cached is not None and cached.fresh():
            return cached
        data = await apps.get_installation_access_token(
            gh, installation_id=str(installation_id), app_id=self.settings.app_id,
            private_key=self.settings.private_key.reveal())
        expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")).timestamp()
        token = InstallationToken(Secret(data["token"]), expires, dict(data.get("permissions") or {}))
        self._tokens[installation_id] = token
        return token
