"""The brand's orders on the manager page in a real browser: two orders placed through the API during a
show (and one outside it), the manager narrows the list to the episode, opens an order, marks it paid
and ready for pickup, reads the email its buyer got from the order's history, sees a move someone else
made first refused with the reason, and downloads the orders as a CSV file."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from shopcast import demo

from .accessibility import blocking_violations
from .conftest import BrowserPage, LiveServer, coming_episodes, sign_in
from .test_live_shopping import StaffApi

pytestmark = pytest.mark.browser

EVIL = '=HYPERLINK("https://evil.example/","Tom")'
PICKUP = {"method": "pickup", "store_id": "marais"}
DELIVERY = {
    "method": "delivery",
    "address": {"line1": "3 rue Oberkampf", "postal_code": "75011", "city": "Paris", "country": "FR"},
}


async def place_order(
    server: LiveServer,
    *,
    product: str,
    name: str,
    email: str,
    shipping: dict[str, Any],
    episode_id: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """A guest's order for the first size of one product of the demo lineup, bought during the live when
    `episode_id` is given, from a page in `language`."""
    lineup_of = episode_id or (await coming_episodes(server))[0]["id"]
    async with aiohttp.ClientSession(server.url) as http:
        async with http.post("/api/v1/auth/guest", json={"nickname": name[:20]}) as response:
            token = (await response.json())["token"]
        guest = {"Authorization": f"Bearer {token}", "Accept-Language": language}
        async with http.get(f"/api/v1/public/episodes/{lineup_of}/lineup") as response:
            card = next(card for card in await response.json() if card["title"] == product)
        added = {"variant_id": card["variants"][0]["id"], "episode_id": episode_id}
        cart = f"/api/v1/brands/{server.demo.brand_slug}/cart/items"
        async with http.post(cart, json=added, headers=guest) as response:
            assert response.status == 201, await response.text()
        order = {"email": email, "name": name, "shipping": shipping}
        headers = {**guest, "Idempotency-Key": str(uuid.uuid4())}
        orders = f"/api/v1/brands/{server.demo.brand_slug}/orders"
        async with http.post(orders, json=order, headers=headers) as response:
            assert response.status == 201, await response.text()
            return await response.json()


async def orders_during_a_show(server: LiveServer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The demo's next episode live, Léa's tote to pick up and Tom's crew-neck delivered bought during it,
    then Ann's dress bought outside it: (the episode, [Léa's, Tom's, Ann's])."""
    episode = (await coming_episodes(server))[0]
    async with aiohttp.ClientSession(base_url=server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        await host.call("POST", f"/api/v1/episodes/{episode['id']}/start")
    leas = await place_order(
        server,
        product="Leather tote",
        name="Léa Martin",
        email="lea@example.com",
        shipping=PICKUP,
        episode_id=episode["id"],
        language="fr",
    )
    toms = await place_order(
        server,
        product="Cashmere crew-neck",
        name=EVIL,
        email="tom@example.com",
        shipping=DELIVERY,
        episode_id=episode["id"],
    )
    anns = await place_order(server, product="Linen wrap dress", name="Ann", email="ann@example.com", shipping=DELIVERY)
    return episode, [leas, toms, anns]


async def open_orders(page: Page, server: LiveServer) -> None:
    await page.goto(f"{server.url}/manage")
    await sign_in(page, "manager@demo.shopcast.test", demo.PASSWORD)
    await page.get_by_role("button", name="Orders", exact=True).click()


async def history_email_sent(page: Page, template: str) -> None:
    """The order's history shows the email sent: the worker in the app process sends it within a second or so."""
    email = page.get_by_test_id("history-email").and_(page.locator(f'[data-template="{template}"]'))
    for _ in range(20):
        if await email.get_by_test_id("history-email-state").filter(has_text="Sent").count():
            return
        await page.wait_for_timeout(500)
        await page.get_by_test_id("order-refresh").click()
    await expect(email.get_by_test_id("history-email-state")).to_have_text("Sent")


async def test_the_manager_works_through_the_orders_of_an_episode(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    episode, (leas, toms, anns) = await orders_during_a_show(live_server)

    await open_orders(page, live_server)
    rows = page.get_by_test_id("order-row")
    await expect(rows.get_by_test_id("order-row-number")).to_have_text([anns["number"], toms["number"], leas["number"]])
    await expect(page.get_by_test_id("orders-total-count")).to_have_text("3 orders")

    # The episode's orders: Léa's and Tom's, with their totals (the tote 159 €, the crew-neck 129 €, both
    # above free delivery).
    await page.get_by_label("Episode", exact=True).select_option(episode["id"])
    await page.get_by_role("button", name="Show these orders").click()
    await expect(rows.get_by_test_id("order-row-number")).to_have_text([toms["number"], leas["number"]])
    await expect(page.get_by_test_id("orders-totals")).to_have_text("2 orders · 2 units · €288.00")
    # Tom's name is shown as he typed it: text, never a formula nor a link.
    await expect(rows.nth(0).get_by_test_id("order-row-buyer")).to_have_text(EVIL)

    # Léa's order, to pick up: marked paid, then ready, each asked once more.
    await rows.filter(has_text=leas["number"]).click()
    detail = page.get_by_test_id("order-detail")
    await expect(detail.get_by_test_id("order-title")).to_have_text(f"Order {leas['number']}")
    await expect(detail.get_by_test_id("order-title")).to_be_focused()
    await expect(detail.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    await expect(detail.get_by_test_id("order-line-title")).to_have_text(["Leather tote"])
    await expect(detail.get_by_test_id("order-line-units")).to_have_text(["1 \N{MULTIPLICATION SIGN} €159.00"])
    await expect(detail.get_by_test_id("order-total")).to_have_text("€159.00")
    await expect(detail.get_by_test_id("order-buyer-email")).to_have_text("lea@example.com")
    await expect(detail.get_by_test_id("order-shipping")).to_contain_text("Maison Lumière Marais")
    await expect(detail.get_by_test_id("order-payment-method")).to_have_text("At pickup")
    await expect(detail.get_by_test_id("order-payment-state")).to_have_text("Not paid yet")
    await expect(detail.get_by_test_id("history-change")).to_have_text([re.compile("Placed by Léa Martin$")])
    await expect(detail.get_by_test_id("order-move-fulfilled")).to_have_count(0)  # not before it is paid

    await detail.get_by_test_id("order-move-paid").click()
    await expect(detail.get_by_test_id("order-keep")).to_be_focused()
    await expect(detail.get_by_role("group")).to_contain_text(
        f"Mark {leas['number']} paid? Léa Martin is emailed that the payment was received."
    )
    assert await blocking_violations(page) == []
    await detail.get_by_test_id("order-confirm").click()
    await expect(detail.get_by_test_id("order-status")).to_have_text("Paid")
    await expect(page.get_by_test_id("notice")).to_have_text(f"{leas['number']} is paid: Léa Martin will be emailed.")
    await detail.get_by_role("button", name="Ready for pickup").click()
    await expect(detail.get_by_role("group")).to_contain_text("ready at Maison Lumière Marais?")
    await detail.get_by_test_id("order-confirm").press("Enter")
    await expect(detail.get_by_test_id("order-status")).to_have_text("Ready for pickup")
    await expect(rows.filter(has_text=leas["number"]).get_by_test_id("order-row-status")).to_have_text(
        "Ready for pickup"
    )
    await expect(detail.get_by_test_id("order-actions")).to_be_empty()
    await expect(detail.get_by_test_id("history-change")).to_have_text(
        [
            re.compile("Placed by Léa Martin$"),
            re.compile("Marked paid by Camille$"),
            re.compile("Marked ready for pickup by Camille$"),
        ]
    )

    # The buyer's email, from the order's history to the Emails tab: in French, the page she ordered from.
    await history_email_sent(page, "order_ready")
    subject = f"Commande {leas['number']} prête à être retirée"
    await detail.get_by_role("button", name=f"Open the email “{subject}” in Emails").click()
    email = page.get_by_test_id("email-detail")
    await expect(email.get_by_test_id("email-subject")).to_have_text(subject)
    await expect(email.get_by_test_id("email-subject")).to_be_focused()
    await expect(email.get_by_test_id("email-header-to")).to_have_text("Léa Martin <lea@example.com>")
    await expect(email.get_by_test_id("email-text")).to_contain_text("retirez-la à Maison Lumière Marais")
    await expect(page.get_by_test_id("email-row").filter(has_text=subject)).to_have_attribute("aria-current", "true")

    # Tom's order, cancelled by someone else while it is open here: marking it paid is refused with why.
    await page.get_by_role("button", name="Orders", exact=True).click()
    await rows.filter(has_text=toms["number"]).click()
    await expect(detail.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    await expect(detail.get_by_test_id("order-shipping")).to_have_text("3 rue Oberkampf75011 ParisFrance")
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        other = await StaffApi.sign_in(http, "manager@demo.shopcast.test")
        await other.call("POST", f"/api/v1/orders/{toms['id']}/status", {"status": "cancelled"})
        crew = await other.call("GET", f"/api/v1/public/products/{toms['items'][0]['product_id']}")
    assert crew["variants"][0]["stock"] == 4  # its unit is back on sale
    console.expect_http_error(409, f"/api/v1/orders/{toms['id']}/status")
    await detail.get_by_test_id("order-move-paid").click()
    await detail.get_by_test_id("order-confirm").click()
    await expect(detail.get_by_test_id("order-error")).to_have_text(
        "Not changed: The order is cancelled: it cannot become paid."
    )
    await expect(detail.get_by_test_id("order-status")).to_have_text("Cancelled")
    await expect(detail.get_by_test_id("order-actions")).to_be_empty()
    await expect(rows.filter(has_text=toms["number"]).get_by_test_id("order-row-status")).to_have_text("Cancelled")
    await expect(page.get_by_test_id("orders-totals")).to_have_text(
        "2 orders · 1 unit · €159.00 (1 cancelled, left out of units and revenue)"
    )
    await page.screenshot(path=results_dir / "manager-orders.png", full_page=True)

    # The episode's orders as a file: one row per line, formulas kept as text.
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download CSV").click()
    download = await downloading.value
    assert re.fullmatch(r"orders-maison-lumiere-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    body = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert body.startswith(b"\xef\xbb\xbf")
    rows_read = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert [(row["order_number"], row["status"], row["product"]) for row in rows_read] == [
        (toms["number"], "cancelled", "Cashmere crew-neck"),
        (leas["number"], "fulfilled", "Leather tote"),
    ]
    assert rows_read[0]["buyer_name"] == "'" + EVIL
    assert rows_read[1]["episode"] == demo.SHOW_TITLE and rows_read[1]["order_total"] == "159.00"
    await expect(page.get_by_test_id("notice")).to_have_text("The file is downloaded: one row per item ordered.")
    console.assert_clean()
