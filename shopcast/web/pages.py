"""The browser pages: small HTML shells; the front-end bundle (built by npm) does the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

PAGES = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"


def _page(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    path = PAGES / name

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(body=path.read_bytes(), content_type="text/html", charset="utf-8")

    return serve


async def home(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/manage")


def install(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
    app.router.add_get("/manage", _page("manage.html"), name="manage")
    STATIC.mkdir(exist_ok=True)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
