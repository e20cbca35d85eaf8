"""The pages translated so far, in a French browser: every word the person reads is French, the
switcher turns the page English and the choice holds (docs/operations.md, "Languages")."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from .conftest import LiveServer, OpenContext, watched_page

pytestmark = pytest.mark.browser

LOCALES = Path(__file__).resolve().parents[2] / "shopcast" / "locales"
PHONE = {"width": 390, "height": 844}


def messages(code: str, prefixes: tuple[str, ...]) -> set[str]:
    """The language's messages under these keys, their placeholders cut off (the fixed words)."""
    catalogue = json.loads((LOCALES / f"{code}.json").read_text(encoding="utf-8"))
    found = set()
    for key, message in catalogue.items():
        if key.startswith(prefixes):
            for form in message.values() if isinstance(message, dict) else [message]:
                found |= {part.strip() for part in re.split(r"\{\w+\}", form) if len(part.strip()) > 3}
    return found


async def visible_text(page: Page) -> str:
    return await page.evaluate("() => document.body.innerText")


async def test_a_french_browser_reads_the_claim_page_in_french_and_can_switch(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    context = await open_context("french viewer", viewport=PHONE, is_mobile=True, locale="fr-FR")
    watched = await watched_page(context)
    page = watched.page
    url = f"{live_server.url}/claim/{uuid.uuid4()}"
    await page.goto(url)
    # No entry in this browser: the page says so, in French, with the page's own words around it.
    await expect(page.get_by_test_id("claim-status")).to_have_text(
        "Ouvrez ce lien dans le navigateur avec lequel vous avez participé\u00a0: il connaît votre participation."
    )
    assert await page.evaluate("() => document.documentElement.lang") == "fr"
    assert await page.title() == "Shopcast · Réclamer votre lot"
    shown = await visible_text(page)
    english = messages("en", ("claim.", "page.", "language."))
    assert not [m for m in english if m in shown], shown
    assert "Réclamer votre lot" in shown

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_test_id("claim-title")).to_have_text("Claim your prize")
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    await page.goto(url)  # the choice holds without ?lang=
    await expect(page.get_by_test_id("claim-status")).to_have_text(
        "Open this link in the browser you entered the giveaway with: it knows your entry."
    )
    watched.console.assert_clean()
