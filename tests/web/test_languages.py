"""Pages in French and English: the catalogues agree, and a page is shown in the person's choice,
else their browser's languages, else English; every page is translated."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest

from shopcast.web import language, pages

REPO = Path(__file__).resolve().parents[2]
BAD_EPISODE = "/watch/not-an-episode"  # answered with the "not found" page, a translated one


def fields(message: str | dict[str, str]) -> set[str]:
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def test_every_language_says_everything_english_says_with_the_same_placeholders() -> None:
    english = language.catalogues()["en"]
    assert set(language.languages()) >= {"en", "fr"}
    for code, catalogue in language.catalogues().items():
        assert set(catalogue) == set(english), (code, set(english) ^ set(catalogue))
        for key, message in catalogue.items():
            assert fields(message) == fields(english[key]), (code, key)
            if isinstance(message, dict):
                assert "other" in message, (code, key)


def test_every_key_the_pages_their_scripts_and_the_emails_use_is_in_the_catalogues() -> None:
    scripts, emails = REPO / "frontend/src", REPO / "shopcast/emails/templates"
    used = set()
    speaking = set()  # the folders of scripts in which calls were found
    for path in [*(REPO / "shopcast/web/pages").rglob("*.html"), *scripts.rglob("*.js"), *emails.iterdir()]:
        keys = set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']""", path.read_text()))
        used |= keys
        if keys and path.is_relative_to(scripts):
            speaking.add(path.parent.relative_to(scripts).as_posix())
    # An email's subject is looked up by its template's name.
    used |= {f"email.{path.stem}.subject" for path in emails.glob("[!_]*.html")}
    assert used, "no page uses the catalogues"
    # Every folder of the front end was read: a page's words cannot hide in a folder this test skips.
    folders = {path.parent.relative_to(scripts).as_posix() for path in scripts.rglob("*.js")}
    assert speaking == folders, folders - speaking
    assert used <= set(language.catalogues()["en"]), used - set(language.catalogues()["en"])


@pytest.mark.parametrize(
    ("accept", "shown"),
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("fr-CH", "fr"),
        ("de-DE, fr;q=0.5", "fr"),  # no German: the next language the browser takes
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE", "en"),
        ("fr;q=0", "en"),  # "not French"
        ("", "en"),
        (";;,q=,*", "en"),
    ],
)
async def test_the_browser_s_languages_choose_the_page_s(client: Any, accept: str, shown: str) -> None:
    response = await client.get(BAD_EPISODE, headers={"Accept-Language": accept})
    assert response.status == 404
    page = await response.text()
    assert f'<html lang="{shown}">' in page
    assert response.headers["Content-Language"] == shown
    heading = language.translate(shown, "not_found.heading")
    assert f'<h1 id="not-found-title">{heading}</h1>' in page


async def test_the_switcher_s_choice_is_kept_and_wins_over_the_browser(client: Any) -> None:
    french_browser = {"Accept-Language": "fr-FR,fr;q=0.9"}
    page = await (await client.get(BAD_EPISODE, headers=french_browser)).text()
    assert 'href="?lang=en" hreflang="en" lang="en">English</a>' in page
    assert 'href="?lang=fr" hreflang="fr" lang="fr" aria-current="true">Français</a>' in page
    chosen = await client.get(f"{BAD_EPISODE}?lang=en", headers=french_browser)
    assert '<html lang="en">' in await chosen.text()
    assert chosen.cookies[language.COOKIE].value == "en"
    # The next page, without ?lang=: the choice holds (the test client keeps the cookie).
    assert '<html lang="en">' in await (await client.get(BAD_EPISODE, headers=french_browser)).text()
    ignored = await client.get(f"{BAD_EPISODE}?lang=xx", headers=french_browser)
    assert '<html lang="en">' in await ignored.text() and language.COOKIE not in ignored.cookies


def test_every_page_is_translated() -> None:
    shown = {path.name for path in (REPO / "shopcast/web/pages").glob("*.html")}
    assert shown == {
        "manage.html",
        "report.html",
        "watch.html",
        "studio.html",
        "claim.html",
        "not-found.html",
        "unsubscribe.html",
    }
    assert shown <= pages.TRANSLATED, shown - pages.TRANSLATED


async def test_the_manager_page_is_shown_in_the_browser_s_language(client: Any) -> None:
    response = await client.get("/manage", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert response.status == 200
    page = await response.text()
    assert '<html lang="fr">' in page
    assert response.headers["Content-Language"] == "fr"
    assert f"<title>{language.translate('fr', 'manager.title')}</title>" in page
    # Its sign-in form, shared with the studio, is in French too; and the switcher is there.
    assert f">{language.translate('fr', 'sign_in.submit')}<" in page
    assert 'data-testid="language-switcher"' in page


@pytest.mark.parametrize(("accept", "shown"), [("fr-FR,fr;q=0.9", "fr"), ("en-GB,en;q=0.9", "en")])
async def test_the_watch_page_is_shown_in_the_browser_s_language(client: Any, accept: str, shown: str) -> None:
    response = await client.get("/watch/3f0c1d5e-8a3b-4c7e-9d2a-1b2c3d4e5f60", headers={"Accept-Language": accept})
    assert response.status == 404  # no such episode: the page says so, in the browser's language
    page = await response.text()
    assert f'<html lang="{shown}">' in page
    assert response.headers["Content-Language"] == shown
    assert f"<title>{language.translate(shown, 'watch.title')}</title>" in page
    number = language.translate(shown, "checkout.order_number").split("{number}")
    assert f'<p>{number[0]}<strong data-testid="order-number"></strong>{number[1]}</p>' in page
    assert 'data-testid="language-switcher"' in page


def test_names_and_plural_forms() -> None:
    assert language.native_name("fr") == "Français" and language.native_name("en") == "English"
    assert language.translate("fr", "not_found.heading") == "Cette page n\N{RIGHT SINGLE QUOTATION MARK}existe pas"
    assert language.translate("xx", "not_found.heading") == "There is no such page"  # English stands in
