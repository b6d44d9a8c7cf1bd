"""installation and installation_repositories: logged and counted; a deleted installation's
stored data is purged."""

from __future__ import annotations

from gidgethub import sansio
from gidgethub.routing import Router

from ..pipeline import Outcome

router = Router()


@router.register("installation")
async def installation(event: sansio.Event, app, result: dict) -> None:
    """Installation changes need no GitHub call; when the app is uninstalled, what the store
    holds for that installation is deleted."""
    action = event.data.get("action")
    installation_id = (event.data.get("installation") or {}).get("id")
    if action == "deleted" and installation_id is not None:
        purged = await app.queue.purge_installation(installation_id)
        app.auth.forget(installation_id)
        result["outcome"] = Outcome("purged", f"{purged} stored job(s) of installation {installation_id}")
    else:
        result["outcome"] = Outcome("ignored", f"installation {action}")


@router.register("installation_repositories")
async def repositories(event: sansio.Event, app, result: dict) -> None:
    """Repositories added or removed: nothing to do until one of them fails a build."""
    result["outcome"] = Outcome("ignored", f"installation_repositories {event.data.get('action')}")
