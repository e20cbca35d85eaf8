"""The browser pages: small HTML shells; the front-end bundle (built by npm) does the rest."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

PAGES = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"

Handler = Callable[[web.Request], Awaitable[web.Response]]


_INCLUDE = re.compile(r"^(?P<indent>[ ]*)<!--#include (?P<name>[a-z-]+) -->$", re.M)


@functools.cache  # packaged files: read once per process
def render(name: str) -> str:
    """A page, with `<!--#include partial-name -->` lines replaced by pages/partials/partial-name.html."""

    def include(match: re.Match[str]) -> str:
        partial = (PAGES / "partials" / f"{match['name']}.html").read_text()
        return "\n".join(match["indent"] + line if line else line for line in partial.rstrip("\n").split("\n"))

    return _INCLUDE.sub(include, (PAGES / name).read_text())


def _html(name: str, status: int = 200) -> web.Response:
    return web.Response(text=render(name), status=status, content_type="text/html", charset="utf-8")


def _page(name: str) -> Handler:
    async def serve(_request: web.Request) -> web.Response:
        return _html(name)

    return serve


def _item_page(name: str, key: str = "episode_id") -> Handler:
    """A page about one thing (an episode, a giveaway); an id that cannot be one gets the "not found" page."""

    async def serve(request: web.Request) -> web.Response:
        try:
            uuid.UUID(request.match_info[key])
        except ValueError:
            return _html("not-found.html", status=404)
        return _html(name)

    return serve


async def home(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/manage")


def install(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
    app.router.add_get("/manage", _page("manage.html"), name="manage")
    app.router.add_get("/studio/{episode_id}", _item_page("studio.html"), name="studio")
    app.router.add_get("/watch/{episode_id}", _item_page("watch.html"), name="watch")
    app.router.add_get("/claim/{giveaway_id}", _item_page("claim.html", "giveaway_id"), name="claim")
    STATIC.mkdir(exist_ok=True)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
