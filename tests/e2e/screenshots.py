"""The README's screenshots, made anew by `make screenshots` (not part of `make test`).

One demo show goes live from the studio with Chromium's fake camera. In English and in French: the
manager page, the studio on a laptop, and the watch page on a phone (the product as a strip over the
show, then opened) and on a laptop (the chat beside the show, the product over it), with a few chat
messages and a poll. Written to docs/screenshots/, as JPEG to keep the repository small.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, expect

from .conftest import LiveServer, OpenContext, coming_episodes, open_card, watched_page
from .test_live_shopping import PHONE, StaffApi
from .test_live_video import wait_for_frames

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
LOCALES = {"en": "en-GB", "fr": "fr-FR"}
# What the audience says, and the poll the host opens, in each language.
CHAT = {
    "en": [("Ada", "Is the dress lined?"), ("Louis", "Love the sage one 😍"), ("Ada", "What size is the model?")],
    "fr": [("Ada", "La robe est-elle doublée ?"), ("Louis", "J'adore la verte 😍"), ("Ada", "Elle porte du S ?")],
}
POLL = {
    "en": {"question": "Which colour next?", "options": [{"label": "Sand"}, {"label": "Sage"}]},
    "fr": {"question": "Quelle couleur ensuite ?", "options": [{"label": "Sable"}, {"label": "Sauge"}]},
}


async def shoot(page: Page, name: str) -> None:
    await page.wait_for_timeout(400)  # the cards' slide-in animation
    await page.screenshot(path=SHOTS / f"{name}.jpg", type="jpeg", quality=82)


async def sign_in(page: Page, email: str) -> None:
    await page.get_by_test_id("email").fill(email)
    await page.get_by_test_id("password").fill("shopcast-demo")
    await page.get_by_test_id("sign-in-submit").click()


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-input").press("Enter")


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_the_readme_screenshots(live_server: LiveServer, open_context: OpenContext, lang: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    locale = LOCALES[lang]
    episode_id = (await coming_episodes(live_server))[0]["id"]

    manager = (await watched_page(await open_context("manager", viewport=LAPTOP, locale=locale))).page
    await manager.goto(f"{live_server.url}/manage")
    await sign_in(manager, "manager@demo.shopcast.test")
    await expect(manager.get_by_test_id("episode-list").locator("li").first).to_be_visible()
    await shoot(manager, f"manager-{lang}")

    studio = (await watched_page(await open_context("host", viewport=LAPTOP, locale=locale))).page
    await studio.goto(f"{live_server.url}/studio/{episode_id}")
    await sign_in(studio, "host@demo.shopcast.test")
    await studio.wait_for_function("() => document.querySelector('[data-testid=preview]').videoWidth > 0")
    await expect(studio.get_by_test_id("go-live")).to_be_enabled()
    await studio.get_by_test_id("go-live").click()
    await studio.get_by_test_id("confirm-go-live").click()
    await expect(studio.get_by_test_id("connection-state")).to_have_attribute("data-state", "live")

    phone = (
        await watched_page(await open_context("phone", viewport=PHONE, is_mobile=True, has_touch=True, locale=locale))
    ).page
    laptop = (await watched_page(await open_context("laptop", viewport=LAPTOP, locale=locale))).page
    viewers = {"Ada": phone, "Louis": laptop}
    for name, page in viewers.items():
        await page.goto(f"{live_server.url}/watch/{episode_id}")
        await wait_for_frames(page, "video")
        await page.get_by_test_id("nickname").fill(name)
        await page.get_by_test_id("nickname-submit").click()
        await expect(page.get_by_test_id("chat-input")).to_be_enabled()
    for name, text in CHAT[lang]:
        await say(viewers[name], text)
        await expect(studio.get_by_test_id("chat-message").last).to_contain_text(text)
        await viewers[name].wait_for_timeout(1100)  # the chat's slow mode, if any

    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        dress = (await host.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup"))[0]
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": dress["id"]}, expect=201)
        await expect(phone.get_by_test_id("pin-card")).to_be_visible()
        await expect(laptop.get_by_test_id("pin-card")).to_be_visible()
        await phone.evaluate("() => scrollTo(0, document.querySelector('[data-testid=stage]').offsetTop)")
        await shoot(phone, f"watch-phone-{lang}")
        await open_card(phone)
        await shoot(phone, f"watch-phone-product-{lang}")
        await shoot(laptop, f"watch-laptop-{lang}")

        poll = await host.call("POST", f"/api/v1/episodes/{episode_id}/polls", POLL[lang], expect=201)
        await host.call("POST", f"/api/v1/polls/{poll['id']}/open")
        await expect(studio.get_by_test_id("on-screen")).to_be_visible()
        await shoot(studio, f"studio-{lang}")
