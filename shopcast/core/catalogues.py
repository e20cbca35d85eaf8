"""The words of every page, by language: one catalogue file per language in shopcast/locales/
(`en.json`, `fr.json`; adding a language is adding its file), shared by the server's pages and the
browser's bundle. A catalogue maps a key to a message with `{name}` placeholders, or to its plural
forms by CLDR category ("one", "other", …) chosen by `count`."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

LOCALES = Path(__file__).resolve().parents[1] / "locales"
DEFAULT = "en"

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
