"""The brand's webhooks on the manager page in a real browser: the manager adds an endpoint (a shop on
127.0.0.1), copies its secret shown once, sends it a test event, and reads the delivery with its
attempt; the shop checked the signature with that secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from shopcast import demo
from tests.webhooks.receiver import Receiver, receiver  # noqa: F401  (a shop on 127.0.0.1)

from .accessibility import blocking_violations
from .conftest import BrowserPage, LiveServer, sign_in

pytestmark = pytest.mark.browser


async def test_the_manager_adds_an_endpoint_sends_a_test_event_and_reads_its_delivery(
    live_server: LiveServer,
    browser_page: BrowserPage,
    receiver: Receiver,  # noqa: F811
    results_dir: Path,
) -> None:
    page, console = browser_page.page, browser_page.console
    address = receiver.url("hooks")
    await page.goto(f"{live_server.url}/manage")
    await sign_in(page, "manager@demo.shopcast.test", demo.PASSWORD)
    await page.get_by_role("button", name="Webhooks", exact=True).click()
    await expect(page.get_by_test_id("no-endpoints")).to_be_visible()

    await page.get_by_role("button", name="Add an endpoint").click()
    form = page.get_by_test_id("endpoint-form")
    await form.get_by_test_id("endpoint-url").fill(address)
    await form.get_by_test_id("endpoint-description").fill("Our shop")
    await expect(form.get_by_label("Order paid")).to_be_checked()  # the orders' events, to begin with
    await form.get_by_label("Giveaway drawn").check()
    await form.get_by_role("button", name="Add the endpoint").click()

    secret_box = page.get_by_test_id("secret-box")
    await expect(secret_box).to_be_visible()
    secret = await secret_box.get_by_test_id("endpoint-secret").input_value()
    assert secret.startswith("whsec_")
    await secret_box.get_by_role("button", name="I have copied it").click()
    await expect(secret_box).to_be_hidden()

    endpoint = page.get_by_test_id("endpoint").filter(has_text=address)
    await expect(endpoint.get_by_test_id("endpoint-row-state")).to_have_text("On")
    await expect(endpoint.get_by_test_id("endpoint-row-events")).to_contain_text("Order placed")
    await expect(endpoint.get_by_test_id("endpoint-row-events")).to_contain_text("Giveaway drawn")
    await endpoint.get_by_role("button", name="Send a test event").click()
    await expect(page.get_by_test_id("notice")).to_have_text(f"A test event is on its way to {address}.")

    deliveries = page.get_by_test_id("deliveries")
    await expect(deliveries.get_by_test_id("deliveries-title")).to_have_text(f"Deliveries to {address}")
    delivery = deliveries.get_by_test_id("delivery").first
    # The worker in the app process sends it within a second or so; the list is read again on demand.
    for _ in range(20):
        if await delivery.get_by_test_id("delivery-state").filter(has_text="Delivered").count():
            break
        await page.wait_for_timeout(500)
        await deliveries.get_by_role("button", name="Refresh").click()
    await expect(delivery.get_by_test_id("delivery-state")).to_have_text("Delivered")
    await expect(delivery.get_by_test_id("delivery-event")).to_have_text("webhook.test")
    attempt = delivery.get_by_test_id("attempt")
    await expect(attempt).to_have_count(1)
    await expect(attempt.get_by_test_id("attempt-status")).to_have_text("200")
    await expect(attempt.get_by_test_id("attempt-answer")).to_contain_text("200 OK: answered 200 to")

    [taken] = receiver.accepted("hooks")
    assert taken.verify(secret)["type"] == "webhook.test"
    assert taken.id in await attempt.get_by_test_id("attempt-answer").inner_text()
    assert await blocking_violations(page) == []
    await page.screenshot(path=results_dir / "manager-webhooks.png", full_page=True)
    console.assert_clean()
