"""Which language a page is shown in, and its words: one catalogue file per language in
shopcast/locales/ (`en.json`, `fr.json`; adding a language is adding its file), shared by the
server's pages and the browser's bundle.

The language comes from the person's choice (the page's switcher, `?lang=`, kept in a cookie),
else the browser's Accept-Language, else English. A catalogue maps a key to a message with `{name}`
placeholders, or to its plural forms by CLDR category ("one", "other", …) chosen by `count`."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from babel import Locale, UnknownLocaleError, negotiate_locale

LOCALES = Path(__file__).resolve().parents[1] / "locales"
DEFAULT = "en"
COOKIE = "shopcast_lang"

Catalogue = dict[str, str | dict[str, str]]


@functools.cache
def catalogues() -> dict[str, Catalogue]:
    """Every language's catalogue, by language code (the file's name)."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(LOCALES.glob("*.json"))}


def languages() -> list[str]:
    return list(catalogues())


def native_name(language: str) -> str:
    """ "Français" for "fr": how the switcher names each language, in itself."""
    try:
        return Locale.parse(language).get_display_name(language).capitalize()
    except (UnknownLocaleError, ValueError):
        return language


QUERY = "lang"
"""`?lang=fr` on a page's address: the switcher's links (they work without script) and shared links."""


def choose(request: web.Request) -> str:
    """The language to show this request's page in."""
    for chosen in (request.query.get(QUERY), request.cookies.get(COOKIE)):
        if chosen in catalogues():
            return chosen
    wanted = [tag.strip().split(";")[0] for tag in _by_preference(request.headers.get("Accept-Language", ""))]
    return negotiate_locale(wanted, languages(), sep="-") or DEFAULT


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


def translate(language: str, key: str, **params: Any) -> str:
    """The message for `key` in `language` (English when that catalogue lacks it), filled in."""
    found = catalogues().get(language, {}).get(key)
    if found is None:
        found = catalogues()[DEFAULT][key]  # a key missing from English is a bug: KeyError
        language = DEFAULT
    if isinstance(found, dict):
        category = Locale.parse(language).plural_form(params.get("count", 0))
        found = found.get(category, found["other"])
    return found.format(**params) if params else found
