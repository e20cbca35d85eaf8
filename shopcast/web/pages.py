"""The browser pages: small HTML shells; the front-end bundle (built by npm) does the rest."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog import lineup
from shopcast.contests import service as contests
from shopcast.core.errors import NotFound
from shopcast.core.recent import Recent
from shopcast.live import public as live_public
from shopcast.live.schemas import EpisodePreview
from shopcast.web import language
from shopcast.web.context import RESOURCES, SETTINGS
from shopcast.web.share import ShareTags, share_tags

log = logging.getLogger(__name__)
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
TRANSLATED = frozenset(
    {"not-found.html", "claim.html", "watch.html", "studio.html", "manage.html", "report.html", "unsubscribe.html"}
)
"""Pages whose every word, their script's included, is in the catalogues: shown in the chosen
language. The others are shown in English (lang="en") until they are, rather than half translated."""


def _render(name: str, lang: str, share: ShareTags | None = None) -> str:
    shown = lang if name in TRANSLATED else language.DEFAULT
    return _TEMPLATES.get_template(name).render(
        lang=shown,
        t=functools.partial(language.translate, shown),
        languages=[(code, language.native_name(code)) for code in language.languages()],
        translated=name in TRANSLATED,
        share=share,
    )


@functools.cache  # one rendering per page and language
def render(name: str, lang: str = language.DEFAULT) -> str:
    """A page in `lang` (English for a page not yet translated)."""
    return _render(name, lang)


def render_page(name: str, lang: str, **context: Any) -> str:
    """A page about one person's thing (an unsubscribe link), in `lang`: rendered each time, never kept."""
    return _TEMPLATES.get_template(name).render(
        lang=lang, t=functools.partial(language.translate, lang), translated=True, **context
    )


BrandLanguage = Callable[[web.Request], Awaitable[str | None]]
"""The default language of the brand a page is about (None: no such brand)."""


async def _html(
    request: web.Request, name: str, status: int = 200, brand_language: BrandLanguage | None = None
) -> web.Response:
    lang = language.chosen(request)
    if lang is None and brand_language is not None and name in TRANSLATED:
        try:
            lang = await brand_language(request)
        except Exception:
            # The page is a shell its script fills: it must load even while the database does not
            # answer (the script then says what is wrong), in English.
            log.warning("no brand language for %s", request.path, exc_info=True)
    lang = lang or language.DEFAULT
    return _page_response(request, name, render(name, lang), lang, status)


def _page_response(request: web.Request, name: str, text: str, lang: str, status: int = 200) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    language.remember(request, response, lang)
    response.headers["Content-Language"] = lang if name in TRANSLATED else language.DEFAULT
    language.vary(response, *language.CHOSEN_BY)
    return response


def _page(name: str) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return await _html(request, name)

    return serve


def _item_page(name: str, key: str = "episode_id", brand_language: BrandLanguage | None = None) -> Handler:
    """A page about one thing (an episode, a giveaway); an id that cannot be one gets the "not found" page."""

    async def serve(request: web.Request) -> web.Response:
        try:
            uuid.UUID(request.match_info[key])
        except ValueError:
            return await _html(request, "not-found.html", status=404)
        return await _html(request, name, brand_language=brand_language)

    return serve


def _brand_language_of(load: Callable[[AsyncSession, uuid.UUID], Awaitable[Any]], key: str) -> BrandLanguage:
    """The default language of the brand of the thing (`load`: an episode, a giveaway) the page is about."""

    async def look_up(request: web.Request) -> str | None:
        async with request.app[RESOURCES].database.transaction() as session:
            try:
                found = await load(session, uuid.UUID(request.match_info[key]))
            except NotFound:
                return None
            return await accounts.default_language(session, brand_id=found.brand_id)

    return look_up


Preview = tuple[EpisodePreview, str | None]
"""An episode's link preview and its cover picture."""
PREVIEWS: web.AppKey[Recent[uuid.UUID, Preview | None]] = web.AppKey("previews", Recent)


async def _preview(request: web.Request, episode_id: uuid.UUID) -> Preview | None:
    """The episode's preview and cover picture (None: no such episode), looked up once per few seconds."""

    async def look_up() -> Preview | None:
        async with request.app[RESOURCES].database.transaction() as session:
            try:
                preview = await live_public.episode_preview(session, episode_id=episode_id)
            except NotFound:
                return None
            return preview, preview.cover_image_url or await lineup.cover_picture(session, episode_id=episode_id)

    return await request.app[PREVIEWS].get(episode_id, look_up)


async def watch(request: web.Request) -> web.Response:
    """The viewers' page, with what a shared link previews and search engines read (web/share.py)."""
    try:
        episode_id = uuid.UUID(request.match_info["episode_id"])
    except ValueError:
        return await _html(request, "not-found.html", status=404)
    found, status = None, 200
    try:
        found = await _preview(request, episode_id)
        if found is None:
            status = 404  # the script says there is no such show; crawlers and link previews see it too
    except Exception:
        # The page is a shell its script fills: it must load even while the database does not answer.
        log.warning("no preview for %s", request.path, exc_info=True)
    preview, picture = found or (None, None)
    lang = language.chosen(request) or (preview.brand_language if preview else None) or language.DEFAULT
    if preview is None:
        return _page_response(request, "watch.html", render("watch.html", lang), lang, status)
    base = request.app[RESOURCES].settings.public_url or str(request.url.origin())
    share = share_tags(preview, base_url=base, picture=picture, lang=lang)
    return _page_response(request, "watch.html", _render("watch.html", lang, share), lang)


ROBOTS = "User-agent: *\nDisallow: /manage\nDisallow: /studio/\nDisallow: /claim/\n"
"""Crawlers index the watch pages (and what they link to); the staff's pages and prize claims are nobody's."""


async def robots(_request: web.Request) -> web.Response:
    return web.Response(text=ROBOTS, content_type="text/plain", headers={"Cache-Control": "public, max-age=3600"})


async def home(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/manage")


def install(app: web.Application) -> None:
    app[PREVIEWS] = Recent(app[SETTINGS].watch_preview_seconds)
    app.router.add_get("/", home, name="home")
    app.router.add_get("/manage", _page("manage.html"), name="manage")
    app.router.add_get("/manage/episodes/{episode_id}/report", _item_page("report.html"), name="episode_report_page")
    app.router.add_get("/manage/shows/{show_id}/report", _item_page("report.html", "show_id"), name="show_report_page")
    app.router.add_get("/studio/{episode_id}", _item_page("studio.html"), name="studio")
    app.router.add_get("/watch/{episode_id}", watch, name="watch")
    app.router.add_get("/robots.txt", robots, name="robots")
    app.router.add_get(
        "/claim/{giveaway_id}",
        _item_page(
            "claim.html", "giveaway_id", brand_language=_brand_language_of(contests.load_giveaway, "giveaway_id")
        ),
        name="claim",
    )
    STATIC.mkdir(exist_ok=True)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
