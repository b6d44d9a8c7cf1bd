"""pull_request.closed: a declined remedy."""

from __future__ import annotations

from gidgethub import sansio
from gidgethub.routing import Router

from .. import texts
from ..pipeline import Outcome
from ..publish import ours

router = Router()


@router.register("pull_request", action="closed")
async def closed(event: sansio.Event, app, result: dict) -> None:
    """A pull request the app opened, closed without merging by someone else, declines its
    remedy for that workflow (the closed pull request and its marker are the record): one short
    comment says so and how to undo it. Merged ones, other people's, and the ones the app
    closed itself cost nothing."""
    pull = event.data.get("pull_request") or {}
    marker = ours(pull, app.handle)
    sender = (event.data.get("sender") or {}).get("login")
    if marker is None or pull.get("merged") or marker.get("superseded") or sender == f"{app.handle}[bot]":
        result["outcome"] = Outcome("ignored", "not a declined pull request of the app")
        return
    api, _ = await app.repo_api(event.data["installation"]["id"], event.data["repository"]["full_name"])
    await api.comment(pull["number"], texts.DECLINED.format(remedy=marker.get("remedy"),
                                                            workflow=marker.get("workflow"), handle=app.handle))
    result["outcome"] = Outcome("declined", marker.get("remedy") or "", pull["number"])
