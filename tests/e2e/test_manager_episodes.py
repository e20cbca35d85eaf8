"""A show's episodes planned from the manager page in a real browser: the show renamed, one episode
moved to another day and time, one cancelled, a one-off added, a coming episode's products put in order
(which its viewers and its host then see), and what a host and another brand are kept from."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast import demo
from shopcast.accounts import service as accounts
from shopcast.core.db import Database, create_engine
from shopcast.core.security import Role
from shopcast.live import service as live
from shopcast.live.schemas import ShowCreate

from .conftest import BrowserPage, LiveServer, OpenContext, sign_in, watched_page
from .test_live_shopping import StaffApi

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
MANAGER = "manager@demo.shopcast.test"


def paris_day(starts_at_local: str, days: int = 0) -> date:
    """The calendar day of an episode's Paris start, `days` later."""
    return datetime.fromisoformat(starts_at_local).date() + timedelta(days=days)


async def staff_episodes(server: LiveServer, show_id: str) -> list[dict[str, Any]]:
    """The show's coming episodes, cancelled ones included, as its manager reads them from the API."""
    async with aiohttp.ClientSession(base_url=server.url) as http:
        manager = await StaffApi.sign_in(http, MANAGER)
        return await manager.call("GET", f"/api/v1/shows/{show_id}/episodes")


@asynccontextmanager
async def database(server: LiveServer) -> AsyncIterator[AsyncSession]:
    """A transaction on the server's own database."""
    db = Database(create_engine(server.database_url))
    try:
        async with db.transaction() as session:
            yield session
    finally:
        await db.close()


async def open_manager(page: Page, server: LiveServer) -> None:
    await page.goto(f"{server.url}/manage")
    await sign_in(page, MANAGER, demo.PASSWORD)
    await expect(page.get_by_test_id("show-title")).to_have_text(demo.SHOW_TITLE)
    await expect(page.get_by_test_id("episode")).to_have_count(8)


async def test_manager_renames_the_show_then_moves_cancels_and_adds_episodes(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    show_id = live_server.demo.show_id
    before = await staff_episodes(live_server, show_id)
    await open_manager(page, live_server)
    notice = page.get_by_test_id("notice")

    # The show's form, filled with the show as it is: only the new title is sent.
    await page.get_by_role("button", name="Edit the show").click()
    form = page.get_by_test_id("show-form")
    await expect(form.get_by_role("heading")).to_have_text("Edit the show")
    await expect(form.get_by_label("Title")).to_have_value(demo.SHOW_TITLE)
    await expect(form.get_by_label("Time zone")).to_have_value("Europe/Paris")
    await expect(form.get_by_test_id("show-form-summary")).to_have_text("Every Tuesday at 19:00, Europe/Paris time.")
    await form.get_by_label("Title").fill("Tuesday Night Live: autumn")
    await form.get_by_role("button", name="Save changes").click()
    await expect(form).to_be_hidden()
    await expect(notice).to_have_text("“Tuesday Night Live: autumn” is saved.")
    await expect(page.get_by_test_id("show-title")).to_have_text("Tuesday Night Live: autumn")
    await expect(page.get_by_test_id("show-item").locator(".show-item-title")).to_have_text(
        "Tuesday Night Live: autumn"
    )
    await expect(page.get_by_role("button", name="Edit the show")).to_be_focused()
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        manager = await StaffApi.sign_in(http, MANAGER)
        assert (await manager.call("GET", f"/api/v1/shows/{show_id}"))["title"] == "Tuesday Night Live: autumn"
    renamed = await staff_episodes(live_server, show_id)
    assert [(e["id"], e["starts_at"]) for e in renamed] == [(e["id"], e["starts_at"]) for e in before]

    # The second episode, moved to the Thursday of its week at 20:30 Paris time (this browser is in New
    # York). A time already past is refused first, in the form.
    moved = before[1]
    row = page.locator(f'[data-testid=episode][data-episode-id="{moved["id"]}"]')
    await row.get_by_role("button", name="Move").click()
    move = row.get_by_test_id("move-form")
    await expect(move.get_by_label("Date")).to_be_focused()
    await expect(move.get_by_label("Date")).to_have_value(moved["starts_at_local"][:10])
    await expect(move.get_by_label("Starts at")).to_have_value("19:00")
    await expect(move).to_contain_text("In Europe/Paris time, the show's time zone.")
    yesterday = datetime.now(PARIS).date() - timedelta(days=1)
    await move.get_by_label("Date").fill(yesterday.isoformat())
    console.expect_http_error(422, f"/api/v1/episodes/{moved['id']}")
    await move.get_by_role("button", name="Move the episode").click()
    await expect(move.get_by_test_id("episode-form-error")).to_have_text(
        "The episode was not moved. Start: an episode can only be moved to a time in the future."
    )
    await expect(move.get_by_label("Date")).to_have_attribute("aria-invalid", "true")
    thursday = paris_day(moved["starts_at_local"], 2)
    await move.get_by_label("Date").fill(thursday.isoformat())
    await move.get_by_label("Starts at").fill("20:30")
    await move.get_by_role("button", name="Move the episode").click()
    await expect(notice).to_contain_text("The episode is moved to Thu")
    shown = rf"^Thu {thursday.day} {thursday:%b}, 20:30 CES?T$"  # summer or winter time
    await expect(row.get_by_test_id("episode-time")).to_have_text(re.compile(shown))
    await expect(row.get_by_test_id("episode-details")).to_contain_text("Moved")
    await expect(row).to_be_focused()
    await expect(page.get_by_test_id("episode")).to_have_count(8)
    listed = {e["id"]: e for e in await staff_episodes(live_server, show_id)}
    assert listed[moved["id"]]["starts_at_local"].startswith(f"{thursday.isoformat()}T20:30:00")
    assert listed[moved["id"]]["is_moved"]

    # The third one cancelled, after saying yes: listed as cancelled, and its viewers are told.
    cancelled = before[2]
    row = page.locator(f'[data-testid=episode][data-episode-id="{cancelled["id"]}"]')
    await row.get_by_role("button", name="Cancel").click()
    await row.get_by_role("button", name="Yes, cancel it").click()
    await expect(row.get_by_test_id("episode-status")).to_have_text("Cancelled")
    await expect(row).to_have_attribute("data-status", "cancelled")
    await expect(row.get_by_role("button", name="Move")).to_have_count(0)
    await expect(notice).to_contain_text("is cancelled")
    viewer = (await watched_page(await open_context("viewer"))).page
    await viewer.goto(f"{live_server.url}/watch/{cancelled['id']}")
    await expect(viewer.get_by_test_id("ended-title")).to_have_text("This episode was cancelled")

    # A one-off on the Saturday after the first episode, at 11:00 Paris time.
    saturday = paris_day(before[0]["starts_at_local"], 4)
    await page.get_by_role("button", name="Add an episode").click()
    add = page.get_by_test_id("one-off-form")
    await expect(add.get_by_label("Date")).to_be_focused()
    await add.get_by_label("Date").fill(saturday.isoformat())
    await add.get_by_label("Starts at").fill("11:00")
    await add.get_by_label("Title").fill("Saturday flash sale")
    await page.screenshot(path=results_dir / "manager-one-off.png", full_page=True)
    await add.get_by_role("button", name="Add the episode").click()
    await expect(add).to_have_count(0)
    added = rf"^An episode is added on Sat {saturday.day} {saturday:%b}, 11:00 CES?T\.$"
    await expect(notice).to_have_text(re.compile(added))
    await expect(page.get_by_test_id("episode")).to_have_count(9)
    extra = page.get_by_test_id("episode").filter(has_text="Saturday flash sale")
    await expect(extra.get_by_test_id("episode-details")).to_contain_text("One-off")
    await expect(extra).to_be_focused()
    (one_off,) = [e for e in await staff_episodes(live_server, show_id) if e["is_one_off"]]
    assert one_off["starts_at_local"].startswith(f"{saturday.isoformat()}T11:00:00")
    assert one_off["title"] == "Saturday flash sale"
    await page.screenshot(path=results_dir / "manager-episodes.png", full_page=True)

    # From now on every other Tuesday at 20:00: each episode keeps to its week, the moved one where it was
    # moved to, the cancelled one cancelled (at 20:00 now), the others at 20:00 with their ids; those in a
    # week the new schedule skips are gone, and the one-off stays.
    await page.get_by_role("button", name="Edit the show").click()
    await form.get_by_label("Starts at").fill("20:00")
    await form.get_by_label("Every 2 weeks").check()
    summary = "Every 2 weeks on Tuesday at 20:00, Europe/Paris time."
    await expect(form.get_by_test_id("show-form-summary")).to_have_text(summary)
    await form.get_by_role("button", name="Save changes").click()
    await expect(notice).to_have_text("“Tuesday Night Live: autumn” is saved.")
    await expect(page.get_by_test_id("show-schedule")).to_contain_text("Every 2 weeks on Tuesday at 20:00")
    await expect(page.get_by_test_id("episode")).to_have_count(6)
    after = {e["id"]: e["starts_at_local"][:16] for e in await staff_episodes(live_server, show_id)}
    first = paris_day(before[0]["starts_at_local"])
    assert after == {
        before[0]["id"]: f"{first}T20:00",
        moved["id"]: f"{thursday}T20:30",
        cancelled["id"]: f"{paris_day(cancelled['starts_at_local'])}T20:00",
        one_off["id"]: f"{saturday}T11:00",
        before[4]["id"]: f"{paris_day(before[4]['starts_at_local'])}T20:00",
        before[6]["id"]: f"{paris_day(before[6]['starts_at_local'])}T20:00",
    }
    console.assert_clean()


async def test_manager_plans_the_products_the_viewers_then_preview_and_the_host_shows_in_order(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    episode = (await staff_episodes(live_server, live_server.demo.show_id))[1]  # the first one has the demo's
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        manager = await StaffApi.sign_in(http, MANAGER)
        products = {
            p["title"]: p for p in await manager.call("GET", f"/api/v1/brands/{live_server.demo.brand_slug}/products")
        }
    await open_manager(page, live_server)

    row = page.locator(f'[data-testid=episode][data-episode-id="{episode["id"]}"]')
    await row.get_by_role("button", name="Products").click()
    panel = page.get_by_test_id("lineup-panel")
    await expect(panel.get_by_test_id("lineup-panel-title")).to_be_focused()
    await expect(panel.get_by_test_id("lineup-panel-title")).to_have_text(re.compile(r"^Products · Tue "))
    await expect(panel.get_by_test_id("lineup-empty")).to_be_visible()
    titles = panel.get_by_test_id("lineup-title")
    notice = panel.get_by_test_id("lineup-notice")
    for title in ("Leather tote", "Linen wrap dress", "Cashmere crew-neck"):
        await panel.get_by_label("Add to the lineup").select_option(products[title]["id"])
        await panel.get_by_role("button", name="Add", exact=True).click()
        await expect(notice).to_have_text(f"“{title}” is in the lineup.")
    await expect(titles).to_have_text(["Leather tote", "Linen wrap dress", "Cashmere crew-neck"])
    await expect(panel.get_by_test_id("lineup-add")).to_be_hidden()  # nothing left to add

    await panel.get_by_role("button", name="Take Linen wrap dress out of the lineup").click()
    await expect(notice).to_have_text("“Linen wrap dress” is out of the lineup.")
    # From the keyboard: the focus on the cashmere's "up", then Enter; the keyboard stays on the cashmere.
    await panel.get_by_role("button", name="Move Cashmere crew-neck up").focus()
    await page.keyboard.press("Enter")
    await expect(titles).to_have_text(["Cashmere crew-neck", "Leather tote"])
    await expect(notice).to_have_text("“Cashmere crew-neck” is number 1 of 2.")
    await expect(panel.get_by_role("button", name="Move Cashmere crew-neck down")).to_be_focused()
    await page.screenshot(path=results_dir / "manager-lineup.png", full_page=True)
    await page.set_viewport_size({"width": 360, "height": 760})
    await page.screenshot(path=results_dir / "manager-lineup-phone.png", full_page=True)
    console.assert_clean()

    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        async with http.get(f"/api/v1/public/episodes/{episode['id']}/lineup") as response:
            saved = [p["title"] for p in await response.json()]
    assert saved == ["Cashmere crew-neck", "Leather tote"]

    # A viewer waiting for that episode sees what is coming, in that order.
    viewer = await watched_page(await open_context("viewer", viewport={"width": 390, "height": 844}))
    await viewer.page.goto(f"{live_server.url}/watch/{episode['id']}")
    await expect(viewer.page.get_by_test_id("countdown")).to_be_visible()
    await expect(viewer.page.get_by_test_id("coming-name")).to_have_text(["Cashmere crew-neck", "Leather tote"])
    viewer.console.assert_clean()

    # The host's studio for it has the same lineup, in the same order.
    studio = (await watched_page(await open_context("host"))).page
    await studio.goto(f"{live_server.url}/studio/{episode['id']}")
    await sign_in(studio, "host@demo.shopcast.test", demo.PASSWORD)
    await expect(studio.get_by_test_id("lineup-title")).to_have_text(["Cashmere crew-neck", "Leather tote"])


async def test_the_page_keeps_to_the_brand_and_role_and_says_why_when_the_role_changed(
    live_server: LiveServer, browser_page: BrowserPage
) -> None:
    page, console = browser_page.page, browser_page.console
    now = datetime.now(UTC)
    # Another brand, with its own show; the demo's manager is one of its hosts.
    async with database(live_server) as session:
        rival = await accounts.create_brand(session, slug="rival", name="Rival Goods", now=now)
        boss = await accounts.add_user(
            session, email="boss@rival.test", password=demo.PASSWORD, role=Role.MANAGER, brand=rival, now=now
        )
        await accounts.add_user(session, email=MANAGER, password=demo.PASSWORD, role=Role.HOST, brand=rival, now=now)
        start = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=3)).date()
        show = ShowCreate(title="Rival Hour", time_zone="Europe/London", first_episode_at=f"{start}T18:00")
        rival_show = await live.create_show(
            session,
            actor=await accounts.load_principal(session, user_id=boss.id),
            brand_slug="rival",
            data=show,
            now=now,
            weeks=8,
        )
    demo_ids = {e["id"] for e in await staff_episodes(live_server, live_server.demo.show_id)}

    await open_manager(page, live_server)
    episodes = page.get_by_test_id("episode")
    assert {await e.get_attribute("data-episode-id") for e in await episodes.all()} == demo_ids

    # The other brand: its show and its episodes only, with what a host may do there.
    await page.get_by_label("Brand").select_option("rival")
    await expect(page.get_by_test_id("show-title")).to_have_text("Rival Hour")
    await expect(page.get_by_test_id("show-item")).to_have_count(1)
    await expect(page.get_by_test_id("brand-role")).to_have_text("Your role: host")
    await expect(episodes).to_have_count(8)
    rival_ids = {await e.get_attribute("data-episode-id") for e in await episodes.all()}
    assert not rival_ids & demo_ids
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        async with http.get(f"/api/v1/public/shows/{rival_show.id}/episodes") as response:
            assert rival_ids == {e["id"] for e in await response.json()}
    for hidden in ("move-episode", "cancel-episode", "games-button"):
        await expect(page.get_by_test_id(hidden)).to_have_count(0)
    await expect(page.get_by_role("button", name="Edit the show")).to_be_hidden()
    await expect(page.get_by_role("button", name="Add an episode")).to_be_hidden()
    await expect(page.get_by_test_id("lineup-button")).to_have_count(8)  # hosts plan products too

    # Back to the demo brand, where the manager is demoted to host while the page is open.
    await page.get_by_label("Brand").select_option(live_server.demo.brand_slug)
    await expect(page.get_by_test_id("show-title")).to_have_text(demo.SHOW_TITLE)
    await expect(episodes).to_have_count(8)
    async with database(live_server) as session:
        brand = await accounts.get_brand(session, slug=live_server.demo.brand_slug)
        await accounts.add_user(session, email=MANAGER, password=demo.PASSWORD, role=Role.HOST, brand=brand, now=now)
    first = episodes.first
    episode_id = await first.get_attribute("data-episode-id")
    await first.get_by_role("button", name="Move").click()
    move = first.get_by_test_id("move-form")
    await move.get_by_label("Starts at").fill("21:00")
    console.expect_http_error(403, f"/api/v1/episodes/{episode_id}")
    await move.get_by_role("button", name="Move the episode").click()
    await expect(move.get_by_test_id("episode-form-error")).to_have_text(
        "The episode was not moved. This needs the manager role; you are host."
    )
    await first.get_by_role("button", name="Cancel").click()
    console.expect_http_error(403, f"/api/v1/episodes/{episode_id}/cancel")
    await first.get_by_role("button", name="Yes, cancel it").click()
    await expect(first.get_by_test_id("cancel-error")).to_have_text(
        "The episode was not cancelled. This needs the manager role; you are host."
    )
    await expect(first).to_have_attribute("data-status", "scheduled")
    unchanged = (await staff_episodes(live_server, live_server.demo.show_id))[0]
    assert unchanged["id"] == episode_id and unchanged["status"] == "scheduled"
    assert unchanged["starts_at_local"][11:16] == "19:00"
    console.assert_clean()
