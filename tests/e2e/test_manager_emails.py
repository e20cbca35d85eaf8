"""The brand's emails on the manager page in a real browser: an order placed through the API sends
its buyer a confirmation; without an SMTP server (as with `make run`) the manager reads it on the
page exactly as it would have gone, its HTML part in a sandboxed frame where what the buyer wrote
stays text."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from shopcast import demo

from .accessibility import blocking_violations
from .conftest import BrowserPage, LiveServer, coming_episodes, sign_in

pytestmark = pytest.mark.browser

BUYER = "Léa <b>Martin</b>"


async def place_order(server: LiveServer) -> dict[str, Any]:
    """A guest's order from a French page, for one product of the demo episode's lineup, to pick up."""
    episode = (await coming_episodes(server))[0]
    async with aiohttp.ClientSession(server.url) as http:
        async with http.post("/api/v1/auth/guest", json={"nickname": "Lea"}) as response:
            guest = {"Authorization": f"Bearer {(await response.json())['token']}", "Accept-Language": "fr-FR,fr"}
        async with http.get(f"/api/v1/public/episodes/{episode['id']}/lineup") as response:
            tote = next(card for card in await response.json() if card["title"] == "Leather tote")
        cart = f"/api/v1/brands/{server.demo.brand_slug}/cart/items"
        async with http.post(cart, json={"variant_id": tote["variants"][0]["id"]}, headers=guest) as response:
            assert response.status == 201, await response.text()
        order = {"email": "lea@example.com", "name": BUYER, "shipping": {"method": "pickup", "store_id": "marais"}}
        headers = {**guest, "Idempotency-Key": str(uuid.uuid4())}
        async with http.post(
            f"/api/v1/brands/{server.demo.brand_slug}/orders", json=order, headers=headers
        ) as response:
            assert response.status == 201, await response.text()
            return await response.json()


async def test_the_manager_reads_the_confirmation_of_an_order_as_it_would_have_gone(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    order = await place_order(live_server)
    subject = f"Votre commande {order['number']} chez Maison Lumière"

    await page.goto(f"{live_server.url}/manage")
    await sign_in(page, "manager@demo.shopcast.test", demo.PASSWORD)
    await page.get_by_role("button", name="Emails", exact=True).click()
    row = page.get_by_test_id("email-row").filter(has_text=subject)
    # The worker in the app process keeps it within a second or so; the list is read again on demand.
    for _ in range(20):
        if await row.get_by_test_id("email-row-state").filter(has_text="Sent").count():
            break
        await page.wait_for_timeout(500)
        await page.get_by_role("button", name="Refresh").click()
    await expect(row.get_by_test_id("email-row-state")).to_have_text("Sent")
    await expect(row).to_contain_text(f"{BUYER} <lea@example.com>")

    await row.click()
    detail = page.get_by_test_id("email-detail")
    await expect(detail.get_by_test_id("email-subject")).to_have_text(subject)
    await expect(detail.get_by_test_id("email-status")).to_have_text(
        "Kept here, not sent: Shopcast has no SMTP server."
    )
    await expect(detail.get_by_test_id("email-header-to")).to_have_text('"Léa <b>Martin</b>" <lea@example.com>')
    await expect(detail.get_by_test_id("email-header-message-id")).to_have_text(
        re.compile(r"^<[0-9a-f-]{36}@localhost>$")
    )
    await expect(detail.get_by_test_id("email-header-content-language")).to_have_text("fr")
    await expect(detail.get_by_test_id("email-text")).to_contain_text(f"Bonjour {BUYER},")
    await expect(detail.get_by_test_id("email-text")).to_contain_text("1 \N{MULTIPLICATION SIGN} Leather tote")
    await expect(detail.get_by_test_id("email-text")).not_to_contain_text("One size")  # English, said by nothing

    # The HTML part as sent, in its frame: the buyer's markup is text there, never bold.
    frame = page.frame_locator('[data-testid="email-html"]')
    await expect(frame.get_by_text(f"Bonjour {BUYER},")).to_be_visible()
    await expect(frame.get_by_text("Vous payez au retrait de votre commande à Maison Lumière Marais.")).to_be_visible()
    await expect(frame.locator("b")).to_have_count(0)
    assert await blocking_violations(page) == []
    await page.wait_for_timeout(500)  # the frame is painted a moment after its content is there
    await page.screenshot(path=results_dir / "manager-emails.png", full_page=True)
    console.assert_clean()
