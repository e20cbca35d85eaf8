"""A product's picture in a real browser: the manager uploads it from the product form and sees it in
the catalog; a viewer sees it in the coming products and on the card the host pins, each page taking
the size its box needs from Shopcast."""

from __future__ import annotations

import io
import re
from pathlib import Path

import aiohttp
import pytest
from PIL import Image
from playwright.async_api import Locator, expect

from .conftest import BrowserPage, LiveServer, OpenContext, coming_episodes, open_catalog, watched_page
from .test_live_shopping import StaffApi

pytestmark = pytest.mark.browser

UPLOADED = re.compile(r"^/pictures/[0-9a-f]{32}-1080\.webp$")


def tote_photo() -> bytes:
    picture = Image.new("RGB", (1600, 1200), "#8e5b3a")
    picture.paste("#f1e4d3", (400, 300, 1200, 900))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=88)
    return out.getvalue()


async def shown_picture(image: Locator) -> dict[str, object]:
    """What the <img> shows: the file the browser chose and its decoded width (0: it failed)."""
    await expect(image).to_be_visible()
    await image.scroll_into_view_if_needed()
    await image.page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
    )
    return await image.evaluate("(img) => ({src: img.currentSrc, width: img.naturalWidth})")


async def test_a_picture_uploaded_by_the_manager_is_on_the_catalog_and_the_viewers_card(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    await open_catalog(page, live_server)
    tote = page.get_by_test_id("product-row").filter(has_text="Leather tote")
    await expect(tote.locator(".no-image")).to_be_visible()  # the demo's products have no picture

    # A new product takes pictures once it exists; the tote's edit form takes one from the device.
    await page.get_by_role("button", name="New product").click()
    form = page.get_by_test_id("product-form")
    await expect(form.get_by_label("Add a picture")).to_be_disabled()
    await form.get_by_role("button", name="Cancel").click()
    await tote.get_by_role("button", name="Edit Leather tote").click()
    picture_input = form.get_by_label("Add a picture")
    await expect(picture_input).to_be_enabled()

    # A text file named like a picture is refused with the reason, in the page's words.
    product_id = await tote.get_attribute("data-product-id")
    console.expect_http_error(415, f"/api/v1/products/{product_id}/pictures")
    await picture_input.set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture"})
    status = form.get_by_test_id("picture-status")
    await expect(status).to_have_text("notes.png was not added: it is not a JPEG, PNG or WebP picture.")
    await expect(status).to_have_attribute("data-kind", "error")

    await picture_input.set_input_files({"name": "tote.jpg", "mimeType": "image/jpeg", "buffer": tote_photo()})
    await expect(status).to_have_text("tote.jpg is added.")
    await expect(form.get_by_label("Picture addresses")).to_have_value(UPLOADED)
    await form.screenshot(path=results_dir / "manager-product-picture-form.png")
    # Already in the catalog behind the form, at the size of its thumbnail.
    thumb = await shown_picture(tote.locator("img.thumb"))
    assert str(thumb["src"]).startswith(f"{live_server.url}/pictures/") and str(thumb["src"]).endswith("-160.webp")
    # Saving the form keeps it (its address is one of Shopcast's own).
    await form.get_by_role("button", name="Save changes").click()
    await expect(form).to_be_hidden()
    assert str((await shown_picture(tote.locator("img.thumb")))["src"]).endswith("-160.webp")
    await page.screenshot(path=results_dir / "manager-product-picture.png", full_page=True)
    console.assert_clean()

    # A viewer before the show: the coming products, then the card the host pins, show it.
    episode_id = (await coming_episodes(live_server))[0]["id"]
    viewer = await watched_page(await open_context("viewer", viewport={"width": 1280, "height": 860}))
    await viewer.page.goto(f"{live_server.url}/watch/{episode_id}")
    coming = viewer.page.get_by_test_id("coming-product").filter(has_text="Leather tote")
    assert str((await shown_picture(coming.locator("img")))["src"]).startswith(f"{live_server.url}/pictures/")
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        await host.call("POST", f"/api/v1/episodes/{episode_id}/start")
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": product_id}, expect=201)
    card = viewer.page.get_by_test_id("pin-card")
    await expect(card.get_by_test_id("pin-title")).to_have_text("Leather tote")
    pinned = await shown_picture(card.locator("img.pin-image"))
    assert str(pinned["src"]).startswith(f"{live_server.url}/pictures/") and int(str(pinned["width"])) > 0
