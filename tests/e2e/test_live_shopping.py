"""Shopping during the live in real browsers: the host pins a product, a viewer puts it in the cart in
one tap and checks out as a guest in the drawer over the show, and the show keeps playing.

The demo brand sells what the host shows: the first coming episode's lineup is the demo catalog, and
the brand has a pickup store. The host goes live from the studio with Chromium's fake camera.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from shopcast import demo

from .conftest import BrowserPage, LiveServer, OpenContext, coming_episodes, open_card, watched_page
from .test_live_video import assert_video_advances, go_live, open_studio, wait_for_frames

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HELD = re.compile(r"^Held for you for \d+:\d\d$")
CLOCK = r"(\d+ s|\d+:\d\d)"  # "45 s", "1:00"


class StaffApi:
    """The JSON API as a signed-in member of the demo brand."""

    def __init__(self, http: aiohttp.ClientSession, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def sign_in(cls, http: aiohttp.ClientSession, email: str) -> StaffApi:
        async with http.post("/api/v1/auth/login", json={"email": email, "password": demo.PASSWORD}) as response:
            assert response.status == 200, await response.text()
            return cls(http, (await response.json())["token"])

    async def call(self, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        async with self.http.request(method, path, json=body, headers=self.headers) as response:
            assert response.status == expect, await response.text()
            return await response.json() if response.content_length != 0 else None

    async def open_poll(self, episode_id: str) -> dict[str, Any]:
        """A two-option poll, written and opened (what the host does on air)."""
        body = {"question": "Which colour next?", "options": [{"label": "Sand"}, {"label": "Navy"}]}
        poll = await self.call("POST", f"/api/v1/episodes/{episode_id}/polls", body, expect=201)
        await self.call("POST", f"/api/v1/polls/{poll['id']}/open")
        return poll


async def video_playing(page: Page) -> bool:
    """The show plays where the viewer can see it. Chrome pauses a muted video scrolled off a phone's
    screen, and plays it again once it is back in view: a click that scrolled the page must not
    count as the show stopping."""
    await page.evaluate("() => document.querySelector('[data-testid=video]').scrollIntoView({block: 'nearest'})")
    await page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=video]'); return !v.paused && !v.ended; }",
        timeout=10_000,
    )
    return True


async def test_a_viewer_buys_the_pinned_product_while_the_show_plays(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    studio, studio_console = browser_page.page, browser_page.console
    episode_id = (await coming_episodes(live_server))[0]["id"]
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        manager = await StaffApi.sign_in(http, "manager@demo.shopcast.test")
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        dress, cashmere, _tote = await manager.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup")
        assert dress["title"] == "Linen wrap dress" and cashmere["title"] == "Cashmere crew-neck"
        # One size of the dress is gone before the show: the viewer cannot pick it.
        gone, wanted = dress["variants"][0], dress["variants"][1]
        await manager.call(
            "PATCH",
            f"/api/v1/products/{dress['id']}",
            {"variants": [{"sku": gone["sku"], "options": gone["options"], "stock": 0}]},
        )

        # In the studio the host orders the lineup: the tote out, back in at the end, then first.
        await open_studio(studio, live_server, episode_id)
        lineup = studio.get_by_test_id("lineup-item")
        titles = lineup.get_by_test_id("lineup-title")
        await expect(titles).to_have_text(["Linen wrap dress", "Cashmere crew-neck", "Leather tote"])
        await studio.get_by_role("button", name="Take Leather tote out of the lineup").click()
        await expect(titles).to_have_text(["Linen wrap dress", "Cashmere crew-neck"])
        await studio.get_by_label("Add to the lineup").select_option(label="Leather tote · €159.00")
        await studio.get_by_role("button", name="Add", exact=True).click()
        await expect(titles).to_have_text(["Linen wrap dress", "Cashmere crew-neck", "Leather tote"])
        for _ in range(2):
            await studio.get_by_role("button", name="Move Leather tote up").click()
        await expect(titles).to_have_text(["Leather tote", "Linen wrap dress", "Cashmere crew-neck"])
        saved = await manager.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup")
        assert [p["title"] for p in saved] == ["Leather tote", "Linen wrap dress", "Cashmere crew-neck"]

        # The host goes live; each size's stock is in the lineup.
        await go_live(studio, episode_id)
        studio_stock = studio.locator(f'[data-testid=variant-stock][data-variant-id="{wanted["id"]}"]')
        await expect(studio_stock).to_have_text(f"{wanted['label']}: {wanted['stock']}")

        # A viewer on a phone watches the show.
        viewer_page = await watched_page(await open_context("viewer", viewport=PHONE, is_mobile=True, has_touch=True))
        viewer, viewer_console = viewer_page.page, viewer_page.console
        await viewer.goto(f"{live_server.url}/watch/{episode_id}")
        await wait_for_frames(viewer, "video")

        # The host pins the dress (through the API): the card slides in over the video, with the
        # price, the former price struck through, and the sold-out size not to be picked.
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": dress["id"]}, expect=201)
        card = viewer.get_by_test_id("pin-card")
        await expect(card).to_be_visible()
        await expect(card.get_by_test_id("pin-title")).to_have_text("Linen wrap dress")
        await expect(card.get_by_test_id("pin-price")).to_have_text("€89.00")
        await expect(card.get_by_test_id("pin-price-was")).to_have_text("€119.00")
        await expect(card.locator(f'[data-variant-id="{gone["id"]}"]')).to_be_disabled()
        await expect(studio.get_by_test_id("on-screen")).to_be_visible()
        await viewer.screenshot(path=results_dir / "watch-pin-mobile.png")

        # On the phone the card is a strip over the video; a tap opens it. One tap on a size, one on
        # "Add to cart": in the cart, held for the viewer, and the stock every screen shows goes down by one.
        await open_card(viewer)
        await card.locator(f'[data-variant-id="{wanted["id"]}"]').click()
        await card.get_by_role("button", name="Add to cart").click()
        await expect(card.get_by_test_id("pin-added")).to_be_visible()
        await expect(viewer.get_by_test_id("cart-count")).to_have_text("1")
        await expect(studio_stock).to_have_text(f"{wanted['label']}: {wanted['stock'] - 1}")

        # The cart opens in a drawer over the show: the line, how long it is held, the subtotal.
        await card.get_by_role("button", name="View cart").click()
        drawer = viewer.get_by_test_id("cart-drawer")
        await expect(drawer).to_be_visible()
        line = drawer.get_by_test_id("cart-line")
        await expect(line).to_have_count(1)
        await expect(line.get_by_test_id("cart-line-title")).to_have_text("Linen wrap dress")
        await expect(line.get_by_test_id("cart-line-label")).to_have_text(wanted["label"])
        await expect(line.get_by_test_id("cart-hold")).to_have_text(HELD)
        await expect(drawer.get_by_test_id("cart-subtotal")).to_have_text("€89.00")

        # Guest checkout: email, name, pick up in the store, pay later; the full total before paying.
        await drawer.get_by_role("button", name="Checkout").click()
        # The checkout says what is being bought.
        bought = f"1 \N{MULTIPLICATION SIGN} Linen wrap dress · {wanted['label']}"
        await expect(drawer.get_by_test_id("checkout-item")).to_have_text([bought])
        await drawer.get_by_label("Email").fill("ada@example.com")
        await drawer.get_by_label("Name", exact=True).fill("Ada Lovelace")
        await drawer.get_by_test_id("method-pickup").check()
        await expect(drawer.get_by_test_id("checkout-store")).to_have_value("marais")
        await expect(drawer.get_by_test_id("store-address")).to_have_text("12 rue des Archives, Paris")
        await expect(drawer.get_by_test_id("payment-pay_later")).to_be_checked()
        await expect(drawer.get_by_test_id("total-shipping")).to_have_text("Free")
        await expect(drawer.get_by_test_id("total")).to_have_text("€89.00")
        await viewer.screenshot(path=results_dir / "watch-checkout-mobile.png")
        await drawer.get_by_role("button", name="Place order · €89.00").click()

        # The confirmation, with the order number and how to pay.
        await expect(drawer.get_by_test_id("confirmation")).to_be_visible()
        orders = await manager.call("GET", f"/api/v1/brands/{demo.BRAND_SLUG}/orders")
        assert len(orders) == 1 and orders[0]["email"] == "ada@example.com"
        await expect(drawer.get_by_test_id("order-number")).to_have_text(orders[0]["number"])
        await expect(drawer.get_by_test_id("order-instructions")).to_have_text(
            "Pay when you collect your order at Maison Lumière Marais."
        )
        await viewer.screenshot(path=results_dir / "watch-confirmation-mobile.png")

        # All along, the show kept playing behind the drawer.
        await expect(viewer.get_by_test_id("player")).to_have_attribute("data-state", "live")
        assert await video_playing(viewer)
        await assert_video_advances(viewer, "video")

        # Back to the show: the card says what this live sold, the cart is empty again.
        await drawer.get_by_role("button", name="Keep watching").click()
        await expect(drawer).to_be_hidden()
        await expect(card.get_by_test_id("pin-bought")).to_have_text("1 bought during this live")
        await expect(viewer.get_by_test_id("cart-count")).to_have_text("0")
        # The card is back as it was: no size picked, nothing said about the earlier add.
        await expect(card.get_by_test_id("pin-added")).to_be_hidden()
        await expect(card.locator('[data-testid=variant][aria-pressed="true"]')).to_have_count(0)

        # On the host's preview: how long the show has been on air, and what it has sold.
        await expect(studio.get_by_test_id("elapsed-time")).to_have_text(re.compile(r"^\d+:\d\d$"))
        await expect(studio.get_by_test_id("sales")).to_have_text("1 sold · €89.00")

        # In the studio the host pins the next product with one tap: the viewer's card follows.
        await studio.get_by_role("button", name="Pin Cashmere crew-neck", exact=True).click()
        await expect(card.get_by_test_id("pin-title")).to_have_text("Cashmere crew-neck")
        await expect(studio.get_by_test_id("deal-product")).to_have_text("Cashmere crew-neck")

        # And turns it into a flash deal: every viewer sees the deal price and the countdown.
        await studio.get_by_label("Deal price (EUR)").fill("99")
        await studio.get_by_label("Units").fill("3")
        await studio.get_by_label("Seconds").fill("60")
        await studio.get_by_role("button", name="Start flash deal").click()
        await expect(studio.get_by_test_id("deal-status")).to_have_text(
            re.compile(rf"^€99\.00 · 3 of 3 left · {CLOCK}$")
        )
        await expect(card.get_by_test_id("pin-price")).to_have_text("€99.00")
        await expect(card.get_by_test_id("pin-price-was")).to_have_text("€129.00")
        await expect(card.get_by_test_id("pin-deal")).to_have_text(re.compile(rf"^⚡ Flash deal · 3 left · {CLOCK}$"))
        # One "left" figure on the card: with a size picked (4 of it in stock), only the deal's count.
        await open_card(viewer)
        await card.get_by_test_id("variant").first.click()
        await expect(card.get_by_test_id("pin-stock")).to_be_hidden()
        await viewer.screenshot(path=results_dir / "watch-flash-deal-mobile.png")
        await studio.screenshot(path=results_dir / "studio-lineup.png", full_page=True)

        # The host stops it, then takes the product down: the card goes away.
        await studio.get_by_role("button", name="Stop the deal").click()
        await expect(card.get_by_test_id("pin-price")).to_have_text("€129.00")
        await expect(card.get_by_test_id("pin-stock")).to_have_text("Only 4 left")  # the stock, once the deal is over
        await studio.get_by_role("button", name="Unpin Cashmere crew-neck", exact=True).click()
        await expect(card).to_be_hidden()
        assert await video_playing(viewer)

    studio_console.assert_clean()
    viewer_console.assert_clean()
