"""Which language a page is shown in (its words: shopcast/core/catalogues.py).

The language comes from the person's choice (the page's switcher, `?lang=`, kept in a cookie),
else the browser's Accept-Language, else the brand's default language, else English."""

from __future__ import annotations

from aiohttp import web
from babel import negotiate_locale

from shopcast.core.catalogues import DEFAULT, catalogues, languages, native_name, translate

__all__ = [
    "COOKIE",
    "DEFAULT",
    "catalogues",
    "chosen",
    "languages",
    "native_name",
    "of_reader",
    "remember",
    "translate",
]

COOKIE = "shopcast_lang"
QUERY = "lang"
"""`?lang=fr` on a page's address: the switcher's links (they work without script) and shared links."""


def chosen(request: web.Request) -> str | None:
    """The language the person chose or their browser asks for, if Shopcast has it; None when
    neither says (the brand's default language decides then)."""
    for picked in (request.query.get(QUERY), request.cookies.get(COOKIE)):
        if picked in catalogues():
            return picked
    return negotiate_locale(_by_preference(request.headers.get("Accept-Language", "")), languages(), sep="-")


def of_reader(request: web.Request) -> str:
    """The language of what the API itself writes (a problem's title and detail): the one the
    client asks for, else English, which a script that asks for nothing always got."""
    return chosen(request) or DEFAULT


CHOSEN_BY = ("Accept-Language", "Cookie")
"""The request headers `chosen` reads: a cache must keep one copy per value of each (`Vary`)."""


def vary(response: web.StreamResponse, *headers: str) -> None:
    """Add `headers` to the response's `Vary`, keeping what another part of the app put there."""
    names = [name.strip() for name in response.headers.get("Vary", "").split(",") if name.strip()]
    names += [header for header in headers if header.lower() not in {name.lower() for name in names}]
    response.headers["Vary"] = ", ".join(names)


def remember(request: web.Request, response: web.StreamResponse, language: str) -> None:
    """Keep a language picked with `?lang=` for the next pages (a year, this site only)."""
    if request.query.get(QUERY) == language and request.cookies.get(COOKIE) != language:
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, path="/", samesite="Lax")


def _by_preference(header: str) -> list[str]:
    """Accept-Language's tags, most wanted first ("en;q=0.5, fr" -> fr, en); q=0 means not wanted."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]
