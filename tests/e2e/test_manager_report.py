"""The episode report in a real browser: the manager opens last week's demo episode from the manager
page and sees its charts drawn and its figures, the same as the API's; a table downloads as CSV; the
show's report compares its episodes."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from shopcast import demo, demo_history
from shopcast.core.db import Database, create_engine

from .conftest import BrowserPage, LiveServer, sign_in

pytestmark = pytest.mark.browser

# Pixels of the chart's canvas that are drawn (not transparent): lines, bars, axes and labels.
DRAWN_PIXELS = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn += 1;
  return drawn;
}"""


async def seed_aired_episode(server: LiveServer) -> uuid.UUID:
    """Last week's episode of the demo show, aired and sold (shopcast.demo_history)."""
    database = Database(create_engine(server.database_url))
    try:
        async with database.transaction() as session:
            return await demo_history.seed_last_week(session, now=datetime.now(UTC))
    finally:
        await database.close()


async def api_report(server: LiveServer, path: str) -> Any:
    """A report as the API gives it to the demo's manager."""
    async with aiohttp.ClientSession() as session:
        login = {"email": "manager@demo.shopcast.test", "password": demo.PASSWORD}
        async with session.post(f"{server.url}/api/v1/auth/login", json=login) as response:
            token = (await response.json())["token"]
        async with session.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, await response.text()
            return await response.json()


async def open_episode_report(page: Page, server: LiveServer, sign: Any = sign_in) -> None:
    """From the manager page: past episodes too, then the aired episode's "Report"."""
    await page.goto(f"{server.url}/manage")
    await sign(page)
    await page.get_by_test_id("past-episodes").click()
    await page.get_by_test_id("report-link").click()
    await expect(page.get_by_test_id("report")).to_be_visible()
    await expect(page.get_by_test_id("table-products")).to_be_visible()


async def drawn(page: Page) -> int:
    return await page.get_by_test_id("chart").evaluate(DRAWN_PIXELS)


async def cells(page: Page, table: str, field: str) -> list[str]:
    return (
        await page.get_by_test_id(f"{table}-table")
        .locator(f'[data-field="{field}"]')
        .evaluate_all("(nodes) => nodes.map((n) => n.dataset.value)")
    )


async def test_the_manager_reads_an_episode_report_that_matches_the_api(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    episode_id = await seed_aired_episode(live_server)
    expected = await api_report(live_server, f"/api/v1/episodes/{episode_id}/report")
    page, console = browser_page.page, browser_page.console

    async def manager(p: Page) -> None:
        await sign_in(p, "manager@demo.shopcast.test", demo.PASSWORD)

    await open_episode_report(page, live_server, manager)
    assert page.url.endswith(f"/manage/episodes/{episode_id}/report")
    await expect(page.get_by_test_id("report-title")).to_have_text(demo.SHOW_TITLE)

    # The chart is drawn: the canvas has pixels painted, many of them.
    assert await drawn(page) > 5000

    # The figures, as the API counts them.
    live, replay = expected["audience"]["live"], expected["sales"]["replay"]
    peak = page.get_by_test_id("figure-peak-viewers")
    await expect(peak).to_have_attribute("data-value", str(live["peak_viewers"]))
    await expect(peak).to_contain_text(str(live["peak_viewers"]))
    revenue = expected["sales"]["live"]["revenue"] + replay["revenue"]
    await expect(page.get_by_test_id("figure-revenue")).to_have_attribute("data-value", str(revenue))
    products = expected["products"]
    assert await cells(page, "products", "title") == [p["title"] for p in products]
    for field in ("pins", "seconds_on_screen", "card_views", "adds", "orders", "units_sold", "revenue"):
        assert await cells(page, "products", field) == [str(p[field]) for p in products], field
    for field in ("live", "replay"):
        shown = dict(zip(await cells(page, "sales", "figure"), await cells(page, "sales", field), strict=True))
        assert shown["Orders"] == str(expected["sales"][field]["orders"])
        assert shown["Revenue"] == str(expected["sales"][field]["revenue"])
        assert shown["Carts"] == str(expected["sales"][field]["carts"])
    minutes = page.get_by_test_id("minutes-table").locator("tbody tr")
    await expect(minutes).to_have_count(len(expected["minutes"]))
    assert await cells(page, "minutes", "viewers") == [str(m["viewers"]) for m in expected["minutes"]]
    await expect(page.get_by_test_id("previous-this")).to_have_count(1)
    await page.screenshot(path=results_dir / "episode-report.png", full_page=True)

    # A table as a CSV file.
    async with page.expect_download() as download:
        await page.get_by_test_id("csv-products").click()
    saved = await (await download.value).path()
    text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("product_id,title,pins")
    assert len(text.splitlines()) == 1 + len(products)

    # The show's report: its episodes side by side.
    await page.get_by_test_id("show-report-link").click()
    await expect(page.get_by_test_id("report-kind")).to_have_text("Show report")
    await expect(page.get_by_test_id("episodes-table").locator("tbody tr")).to_have_count(1)
    assert await cells(page, "episodes", "live_orders") == [str(expected["sales"]["live"]["orders"])]
    await expect(page.get_by_test_id("figure-episodes")).to_have_attribute("data-value", "1")
    assert await drawn(page) > 2000
    await page.screenshot(path=results_dir / "show-report.png", full_page=True)
    console.assert_clean()


async def test_a_host_is_not_shown_the_report(live_server: LiveServer, browser_page: BrowserPage) -> None:
    episode_id = await seed_aired_episode(live_server)
    page, console = browser_page.page, browser_page.console
    await page.goto(f"{live_server.url}/manage/episodes/{episode_id}/report")
    console.expect_http_error(403, f"/api/v1/episodes/{episode_id}/report")
    await sign_in(page, "host@demo.shopcast.test", demo.PASSWORD)
    await expect(page.get_by_test_id("notice")).to_have_text(re.compile(r"^The report could not be loaded: .*manager"))
    await expect(page.get_by_test_id("report")).to_be_hidden()
    console.assert_clean()
