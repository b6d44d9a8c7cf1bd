"""issue_comment.created: commands on the app's pull requests."""

from __future__ import annotations

import re

from gidgethub import sansio
from gidgethub.routing import Router

from ...explain import explanation
from ...planning import plan
from ...config import Config
from .. import texts
from ..pipeline import Outcome, RunContext, finding_from_marker, propose
from ..publish import ours

router = Router()
COMMANDS = ("recreate", "next", "ignore", "explain", "help")
WRITERS = ("admin", "maintain", "write")


@router.register("issue_comment", action="created")
async def command(event: sansio.Event, app, result: dict) -> None:
    """A command at the start of a comment on the app's own pull request, addressed to the
    app's handle, from a user with write, maintain or admin permission (never from a bot, the
    app included), is acknowledged with a reaction and carried out; an unknown one is answered
    with the help. Anything else costs no GitHub call."""
    comment, issue = event.data.get("comment") or {}, event.data.get("issue") or {}
    user = comment.get("user") or {}
    m = re.match(rf"\s*@{re.escape(app.handle)}\s+(\S+)", comment.get("body") or "", re.IGNORECASE)
    marker = ours(issue, app.handle)
    if (not m or "pull_request" not in issue or marker is None or user.get("type") == "Bot"
            or str(user.get("login", "")).endswith("[bot]")):
        result["outcome"] = Outcome("ignored", "not a command for the app")
        return
    word = m.group(1).lower()
    api, token = await app.repo_api(event.data["installation"]["id"], event.data["repository"]["full_name"])
    if await api.permission(user.get("login")) not in WRITERS:
        result["outcome"] = Outcome("ignored", f"{user.get('login')} may not command the app")
        return
    await api.react(comment["id"], "+1" if word in COMMANDS else "confused")
    number = issue["number"]
    if word not in COMMANDS or word == "help":
        prefix = texts.UNKNOWN_COMMAND.format(command=word) if word not in COMMANDS else ""
        await api.comment(number, prefix + texts.HELP.format(handle=app.handle))
        result["outcome"] = Outcome("help", word, number)
        return
    finding = finding_from_marker(marker)
    if word == "explain":
        ladder = plan([finding], Config(), skip=tuple(marker.get("tried", []))).ladder
        rest = ladder[ladder.index(marker["remedy"]) + 1:] if marker.get("remedy") in ladder else ladder
        await api.comment(number, explanation([finding], marker["remedy"], [], [], rest[0] if rest else None,
                                              f"`{marker.get('workflow')}`"))
        result["outcome"] = Outcome("explained", marker["remedy"], number)
        return
    if word == "ignore":
        await api.update_pull(number, state="closed")
        await api.comment(number, texts.DECLINED.format(remedy=marker.get("remedy"), workflow=marker.get("workflow"),
                                                        handle=app.handle))
        result["outcome"] = Outcome("declined", marker.get("remedy") or "", number)
        return
    ctx = RunContext.from_marker(event.data, marker)
    skip = (marker["remedy"],) if word == "next" else ()
    if word == "recreate" and issue.get("state") == "closed":
        # Undo a decline: this pull request no longer counts as one.
        await api.update_pull(number, body=texts.with_marker(issue.get("body"), {**marker, "superseded": True}))
    result["outcome"] = await propose(api, ctx, [finding], {"name": "job"}, token.permissions,
                                      dry_run=app.settings.dry_run, handle=app.handle, extra_skip=skip)
