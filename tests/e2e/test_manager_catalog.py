"""The brand's products on the manager page in a real browser: the catalog with its stock, a new
product with its variants, an edit, a feed import that saves the good rows and lists the bad, and a
product archived (off sale, out of the lineup) then restored."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, expect

from .conftest import BrowserPage, LiveServer, coming_episodes, open_catalog

pytestmark = pytest.mark.browser

FEED = """handle,title,price,sku,options,stock
canvas-sneaker,Canvas sneaker,79.00,SNK-40,size=40,5
canvas-sneaker,Canvas sneaker,79.00,SNK-41,size=41,0
straw-hat,Straw hat,abc,HAT-1,,3
"""


async def fill_variant(page: Page, index: int, sku: str, options: str, stock: int) -> None:
    row = page.get_by_test_id("variant-row").nth(index)
    await row.get_by_label("SKU").fill(sku)
    await row.get_by_label("Options").fill(options)
    await row.get_by_label("Stock").fill(str(stock))


async def test_manager_adds_edits_and_imports_products(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    await open_catalog(page, live_server)

    # The demo catalog, by title, each variant with its stock.
    rows = page.get_by_test_id("product-row")
    await expect(rows.get_by_test_id("product-row-title")).to_have_text(
        ["Cashmere crew-neck", "Leather tote", "Linen wrap dress"]
    )
    dress = rows.filter(has_text="Linen wrap dress")
    await expect(dress.get_by_test_id("product-row-price")).to_have_text("€89.00")
    await expect(dress.get_by_test_id("product-row-price-was")).to_have_text("€119.00")
    await expect(dress.get_by_test_id("variant-stock").first).to_have_text("Sand / XS: 6")

    # A new product with two colours; a price that is not one is refused before anything is sent.
    await page.get_by_role("button", name="New product").click()
    form = page.get_by_test_id("product-form")
    await form.get_by_label("Title").fill("Silk scarf")
    await form.get_by_label("Price (EUR)").fill("forty")
    await fill_variant(page, 0, "SCARF-RED", "colour=Red", 3)
    await form.get_by_role("button", name="Add a variant").click()
    await fill_variant(page, 1, "SCARF-BLUE", "colour=Blue", 0)
    await form.get_by_role("button", name="Create product").click()
    await expect(form.get_by_test_id("product-form-error")).to_have_text("Write the price as a number, like 49.90.")
    await expect(form.get_by_label("Price (EUR)")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Price (EUR)").fill("45")
    await form.get_by_label("Former price").fill("60")
    await page.screenshot(path=results_dir / "manager-product-form.png", full_page=True)
    await form.get_by_role("button", name="Create product").click()
    await expect(form).to_be_hidden()
    scarf = rows.filter(has_text="Silk scarf")
    await expect(scarf.get_by_test_id("product-row-price")).to_have_text("€45.00")
    await expect(scarf.get_by_test_id("variant-stock")).to_have_text(["Red: 3", "Blue: sold out"])

    # An edit: more red scarves arrived. A saved variant keeps its SKU.
    await scarf.get_by_role("button", name="Edit Silk scarf").click()
    await expect(form.get_by_test_id("variant-sku").first).to_have_attribute("readonly", "")
    await form.get_by_test_id("variant-row").first.get_by_label("Stock").fill("12")
    await form.get_by_role("button", name="Save changes").click()
    await expect(form).to_be_hidden()
    await expect(scarf.get_by_test_id("variant-stock")).to_have_text(["Red: 12", "Blue: sold out"])

    # A feed: the good product is imported, the bad row is listed with its line and reason.
    await page.get_by_role("button", name="Import a feed").click()
    await page.get_by_label("Or paste it").fill(FEED)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_test_id("import-summary")).to_have_text(
        "3 rows read, 1 product created, 0 updated, 2 variants saved. 1 row not imported:"
    )
    await expect(page.get_by_test_id("import-error-row")).to_have_text([re.compile(r"^line 4: price: .*abc")])
    # Most rows went in: a warning to fix one line, not a failure.
    await expect(page.get_by_test_id("import-report")).to_have_attribute("data-kind", "partial")
    await expect(rows.filter(has_text="Canvas sneaker").get_by_test_id("variant-stock")).to_have_text(
        ["40: 5", "41: sold out"]
    )
    await expect(rows.filter(has_text="Straw hat")).to_have_count(0)
    await page.screenshot(path=results_dir / "manager-catalog.png", full_page=True)
    console.assert_clean()


async def test_the_manager_archives_a_product_and_restores_it(
    live_server: LiveServer, browser_page: BrowserPage
) -> None:
    page, console = browser_page.page, browser_page.console
    await open_catalog(page, live_server)
    rows = page.get_by_test_id("product-row")
    titles = rows.get_by_test_id("product-row-title")
    await expect(titles).to_have_text(["Cashmere crew-neck", "Leather tote", "Linen wrap dress"])

    await rows.filter(has_text="Cashmere crew-neck").get_by_role("button", name="Archive Cashmere crew-neck").click()
    notice = page.get_by_test_id("notice")
    await expect(notice).to_contain_text("“Cashmere crew-neck” is archived: off sale")
    await expect(titles).to_have_text(["Leather tote", "Linen wrap dress"])
    episode_id = (await coming_episodes(live_server))[0]["id"]
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        async with http.get(f"/api/v1/public/episodes/{episode_id}/lineup") as response:
            lineup = await response.json()
    assert [p["title"] for p in lineup] == ["Linen wrap dress", "Leather tote"]  # off the coming show

    await page.get_by_label("Show archived products").check()
    cashmere = rows.filter(has_text="Cashmere crew-neck")
    await expect(cashmere).to_contain_text("Archived")
    await cashmere.get_by_role("button", name="Restore Cashmere crew-neck").click()
    await expect(notice).to_contain_text("“Cashmere crew-neck” is on sale again.")
    await expect(cashmere.get_by_role("button", name="Edit Cashmere crew-neck")).to_be_focused()
    await expect(cashmere).not_to_contain_text("Archived")
    await page.get_by_label("Show archived products").uncheck()
    await expect(titles).to_have_text(["Cashmere crew-neck", "Leather tote", "Linen wrap dress"])
    console.assert_clean()
