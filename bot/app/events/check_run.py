"""check_run.completed: the same failures as workflow runs."""

from __future__ import annotations

from gidgethub import sansio
from gidgethub.routing import Router

from ..pipeline import Outcome

router = Router()


@router.register("check_run", action="completed")
async def completed(event: sansio.Event, app, result: dict) -> None:
    """A GitHub Actions job's check run is the job of a workflow run whose own
    workflow_run.completed delivery does the work: this one costs nothing and never opens a
    second pull request."""
    check = event.data.get("check_run") or {}
    source = ((check.get("app") or {}).get("slug")) or "unknown"
    result["outcome"] = Outcome("ignored", f"check run from {source}: handled through its workflow run")
