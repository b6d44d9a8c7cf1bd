"""The app's pages: plain server-rendered HTML (Jinja2 templates, autoescaped), usable without
JavaScript. ``setup`` registers the app with GitHub's manifest flow; ``status`` shows operators
what the app did. Handlers stay small; every text a person reads is in ``templates/``."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Awaitable, Callable

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

if TYPE_CHECKING:
    from ..server import App

log = logging.getLogger("docker-build-fixer")

APP_KEY: web.AppKey["App"] = web.AppKey("app")

# Autoescaping on for every template: a repository name, a reason or a code from a query string
# can never become markup.
TEMPLATES = Environment(loader=PackageLoader("bot.app.web", "templates"), autoescape=select_autoescape(["html"]),
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(template: str, status: int = 200, form_action: str = "", **context) -> web.Response:
    """A page with headers that keep it to itself: no scripts at all, forms only to this origin
    (and GitHub's, for the setup button), never framed, never cached, no Referer sent along."""
    html = TEMPLATES.get_template(template).render(**context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers.update({
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                   f"form-action 'self' {form_action}".rstrip() + "; frame-ancestors 'none'; "
                                   "base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    })
    return response


def not_found() -> web.Response:
    return render("not_found.html", status=404)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(handler: Handler) -> Handler:
    """Whatever goes wrong, a person gets a short page, never a traceback."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            log.error("page error", extra={"detail": f"{request.path}: {type(exc).__name__}"})
            return render("error.html", status=500, title="Something went wrong",
                          message="The page could not be shown. The server's log has the details.")

    return wrapped
