"""The show on a phone: the video gets the screen. The card the host puts over the show is a strip low
over the picture (at most about a quarter of it, never its centre), a tap opens it as a sheet with
every size in reach, and "Add to cart" folds it back with a confirmation; the chat comes right under
the video, and writing in it keeps the video in sight. Landscape and portrait streams, 320 to 430 px
wide; the laptop keeps the player and the chat side by side."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from .conftest import LiveServer, OpenContext, coming_episodes, watched_page
from .test_live_shopping import PHONE, StaffApi

pytestmark = pytest.mark.browser

VIDEO_RATIO = "(ratio) => document.querySelector('[data-testid=player]').style.setProperty('--video-ratio', ratio)"

# How much of the picture the cards over it cover, and whether one covers its centre.
COVERAGE = """() => {
  const player = document.querySelector("[data-testid=player]").getBoundingClientRect();
  // The chips and the card in front (the strip's open button lies within the card).
  const shown = [...document.querySelectorAll("[data-testid=overlay] > :is(.overlay-bar, [data-card])")]
    .filter((node) => node.getClientRects().length)
    .map((node) => node.getBoundingClientRect());
  const overlap = (a, b) =>
    Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) *
    Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const x = player.left + player.width / 2, y = player.top + player.height / 2;
  return {
    share: shown.reduce((sum, box) => sum + overlap(box, player), 0) / (player.width * player.height),
    centre: shown.some((box) => box.left <= x && x <= box.right && box.top <= y && y <= box.bottom),
  };
}"""

IN_VIEW = """(id) => {
  const box = document.querySelector(`[data-testid=${id}]`).getBoundingClientRect();
  return box.height > 0 && box.top >= -1 && box.bottom <= innerHeight + 1
    && box.left >= -1 && box.right <= innerWidth + 1;
}"""


async def sideways(page: Page) -> int:
    return await page.evaluate("() => document.documentElement.scrollWidth - innerWidth")


async def assert_strip(page: Page, state: str) -> None:
    """The folded card: over the picture, at most about a quarter of it, never its centre."""
    await expect(page.get_by_test_id("overlay")).to_have_attribute("data-folded", "")
    covered: dict[str, Any] = await page.evaluate(COVERAGE)
    assert covered["share"] <= 0.25, f"{state}: the cards cover {covered['share']:.0%} of the picture"
    assert not covered["centre"], f"{state}: a card covers the centre of the picture"
    assert await sideways(page) <= 0, f"{state}: the page scrolls sideways"


async def test_a_viewer_on_a_phone_shops_from_the_strip_and_chats_with_the_video_in_sight(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        await host.call("POST", f"/api/v1/episodes/{episode_id}/start")
        dress = (await host.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup"))[0]
        assert len(dress["variants"]) == 8

        context = await open_context("viewer", viewport=PHONE, is_mobile=True, has_touch=True)
        page = (await watched_page(context)).page
        await page.goto(f"{live_server.url}/watch/{episode_id}")
        await expect(page.get_by_test_id("live-badge")).to_be_visible()
        # Said once: the player's LIVE badge (not a second one under it), the show's name once.
        await expect(page.get_by_test_id("episode-status")).to_be_hidden()
        await expect(page.get_by_test_id("show-title")).to_be_hidden()
        # During the live the chat comes right under the video.
        player = await page.get_by_test_id("player").bounding_box()
        chat = await page.get_by_test_id("chat").bounding_box()
        assert player and chat and 0 <= chat["y"] - (player["y"] + player["height"]) <= 24

        await page.get_by_test_id("nickname").fill("Ada")
        await page.get_by_test_id("nickname-submit").click()
        await expect(page.get_by_test_id("chat-input")).to_be_enabled()

        # The host pins the dress: a strip over the lower left of the picture.
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": dress["id"]}, expect=201)
        strip = page.get_by_test_id("pin-card")
        await expect(strip.get_by_test_id("pin-title")).to_have_text("Linen wrap dress")
        await expect(strip.get_by_test_id("pin-price")).to_have_text("€89.00")
        await expect(strip.get_by_test_id("add-to-cart")).to_be_hidden()
        await assert_strip(page, "a product pinned")

        # A tap on the strip opens the sheet: the video still in sight above it, every size in reach.
        await strip.tap()
        await expect(page.get_by_test_id("overlay")).to_have_attribute("data-sheet", "")
        await expect(page.get_by_test_id("overlay-fold")).to_be_focused()
        sizes = page.get_by_test_id("variant")
        await expect(sizes).to_have_count(8)
        for index in range(8):
            await sizes.nth(index).scroll_into_view_if_needed()
            await expect(sizes.nth(index)).to_be_in_viewport(ratio=1)
        sheet = await page.get_by_test_id("overlay").bounding_box()
        player = await page.get_by_test_id("player").bounding_box()
        assert sheet and player and sheet["y"] >= player["y"] + player["height"] / 2, "the sheet hides the video"
        assert await sideways(page) <= 0

        # A size, "Add to cart": the sheet folds back into the strip, which says it is in the cart.
        await sizes.nth(1).tap()
        await page.get_by_test_id("add-to-cart").tap()
        await expect(page.get_by_test_id("overlay")).to_have_attribute("data-folded", "")
        await expect(strip.get_by_test_id("pin-added")).to_be_visible()
        await expect(strip.get_by_test_id("pin-added")).to_contain_text("Added to your cart")
        await expect(page.get_by_test_id("cart-count")).to_have_text("1")
        await assert_strip(page, "just added")

        # A flash deal: the strip shows its price and countdown; the sheet one "left" figure.
        deal = {"price": 5000, "quantity": 5, "seconds": 120}
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin/deal", deal, expect=201)
        await expect(strip.get_by_test_id("pin-added")).to_be_hidden(timeout=8000)
        await expect(strip.get_by_test_id("pin-deal")).to_be_visible()
        await expect(strip.get_by_test_id("pin-price")).to_have_text("€50.00")
        await assert_strip(page, "a flash deal")
        await page.get_by_test_id("overlay-open").tap()
        await expect(page.get_by_test_id("pin-deal")).to_contain_text("5 left")
        await expect(page.get_by_test_id("pin-stock")).to_be_hidden()
        await page.keyboard.press("Escape")
        await expect(page.get_by_test_id("overlay")).to_have_attribute("data-folded", "")

        # A poll opens: its strip comes to the front, the product one tap away in the sheet.
        await host.open_poll(episode_id)
        await expect(page.get_by_test_id("poll-question")).to_be_visible()
        await expect(page.get_by_test_id("overlay-more")).to_have_text("+1")
        await expect(page.get_by_test_id("poll-option").first).to_be_hidden()
        await assert_strip(page, "a poll open")
        await page.get_by_test_id("poll-card").tap()
        await page.get_by_test_id("poll-option").first.tap()
        await expect(page.get_by_test_id("poll-status")).to_contain_text("1 vote")
        await page.get_by_test_id("chip-pin").tap()
        await expect(page.get_by_test_id("add-to-cart")).to_be_visible()
        # A tap on the video folds the sheet.
        await page.get_by_test_id("player").tap(position={"x": 195, "y": 60})
        await expect(page.get_by_test_id("overlay")).to_have_attribute("data-folded", "")

        # Writing in the chat: with the keyboard up (a shorter screen), the video and the box are both in sight.
        box = page.get_by_test_id("chat-input")
        await box.tap()
        await page.set_viewport_size({"width": PHONE["width"], "height": 480})
        await box.fill("Is it lined?")
        await box.scroll_into_view_if_needed()
        assert await page.evaluate(IN_VIEW, "chat-input"), "the box to write in is off screen"
        assert await page.evaluate(IN_VIEW, "player"), "the video went off screen while writing"
        await box.press("Enter")
        await expect(page.get_by_test_id("chat-message").last).to_contain_text("Is it lined?")
        await page.set_viewport_size(PHONE)

        # A host streaming from a phone: a portrait picture, still with the chat in reach under it.
        await page.evaluate(VIDEO_RATIO, "9 / 16")
        player = await page.get_by_test_id("player").bounding_box()
        assert player and player["height"] <= 0.63 * PHONE["height"] and player["width"] <= PHONE["width"]
        await page.evaluate("() => scrollTo(0, 0)")
        await assert_strip(page, "a portrait stream")
        await box.tap()
        await page.set_viewport_size({"width": PHONE["width"], "height": 480})
        await box.scroll_into_view_if_needed()
        assert await page.evaluate(IN_VIEW, "chat-input"), "portrait: the box to write in is off screen"
        assert await page.evaluate(IN_VIEW, "player"), "portrait: the video went off screen while writing"
        await box.blur()

        # The smallest phones, and a large one.
        for width, height in ((320, 568), (430, 932)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.evaluate(VIDEO_RATIO, "16 / 9")
            await assert_strip(page, f"{width} px wide")

        # A laptop keeps the side-by-side page: the chat beside the player, the card whole over the video.
        await page.set_viewport_size({"width": 1280, "height": 800})
        await expect(page.get_by_test_id("overlay")).not_to_have_attribute("data-folded", "")
        await expect(page.get_by_test_id("overlay-open")).to_be_hidden()
        await page.get_by_test_id("chip-pin").click()
        await expect(page.get_by_test_id("add-to-cart")).to_be_visible()
        player = await page.get_by_test_id("player").bounding_box()
        chat = await page.get_by_test_id("chat").bounding_box()
        assert player and chat and chat["x"] >= player["x"] + player["width"]
