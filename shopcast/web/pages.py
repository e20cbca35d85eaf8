"""The browser pages: small HTML shells; the front-end bundle (built by npm) does the rest."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import jinja2
from aiohttp import web

from shopcast.web import language

PAGES = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"

Handler = Callable[[web.Request], Awaitable[web.Response]]


# Pages are Jinja2 templates (autoescaped): their words come from the language's catalogue.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PAGES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
TRANSLATED = frozenset({"not-found.html", "claim.html", "watch.html"})
"""Pages whose every word, their script's included, is in the catalogues: shown in the chosen
language. The others are shown in English (lang="en") until they are, rather than half translated."""


@functools.cache  # one rendering per page and language
def render(name: str, lang: str = language.DEFAULT) -> str:
    """A page in `lang` (English for a page not yet translated)."""
    shown = lang if name in TRANSLATED else language.DEFAULT
    return _TEMPLATES.get_template(name).render(
        lang=shown,
        t=functools.partial(language.translate, shown),
        languages=[(code, language.native_name(code)) for code in language.languages()],
        translated=name in TRANSLATED,
    )


def _html(request: web.Request, name: str, status: int = 200) -> web.Response:
    lang = language.choose(request)
    response = web.Response(text=render(name, lang), status=status, content_type="text/html", charset="utf-8")
    language.remember(request, response, lang)
    response.headers["Content-Language"] = lang if name in TRANSLATED else language.DEFAULT
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _page(name: str) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return _html(request, name)

    return serve


def _item_page(name: str, key: str = "episode_id") -> Handler:
    """A page about one thing (an episode, a giveaway); an id that cannot be one gets the "not found" page."""

    async def serve(request: web.Request) -> web.Response:
        try:
            uuid.UUID(request.match_info[key])
        except ValueError:
            return _html(request, "not-found.html", status=404)
        return _html(request, name)

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
