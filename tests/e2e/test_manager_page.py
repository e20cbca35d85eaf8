"""The manager page in a real browser: sign in, read the schedule, plan a show, share its calendar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import expect

from shopcast import demo

from .conftest import BrowserPage, LiveServer, sign_in

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")


def next_weekday(weekday: int) -> date:
    """The next such weekday (Monday = 0) after today in Paris, never today."""
    today = datetime.now(PARIS).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_wrong_password_shows_the_reason(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    await page.goto(f"{live_server.url}/manage")
    console.expect_http_error(401, "/api/v1/auth/login")

    await sign_in(page, "manager@demo.shopcast.test", "not-the-password")

    await expect(page.get_by_test_id("sign-in-error")).to_have_text(re.compile("^wrong email or password", re.I))
    await expect(page.get_by_test_id("workspace")).to_be_hidden()
    await page.screenshot(path=results_dir / "manager-sign-in.png")
    console.assert_clean()


async def test_manager_plans_a_weekly_show_and_shares_its_calendar(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    await page.goto(f"{live_server.url}/manage")
    await sign_in(page, "manager@demo.shopcast.test", demo.PASSWORD)

    # The demo show, in Paris time although this browser lives in New York.
    await expect(page.get_by_test_id("workspace-title")).to_have_text("Maison Lumière")
    await expect(page.get_by_test_id("show-item")).to_have_count(1)
    await expect(page.get_by_test_id("show-title")).to_have_text(demo.SHOW_TITLE)
    episodes = page.get_by_test_id("episode")
    await expect(episodes).to_have_count(8)
    times = await page.get_by_test_id("episode-time").all_inner_texts()
    assert all("19:00" in t and t.startswith("Tue") for t in times), times
    await expect(episodes.first.get_by_test_id("episode-status")).to_have_text("Scheduled")
    await expect(episodes.first).to_contain_text("Inès")

    # A show with an empty title is refused by the API; its reason shows next to the form.
    await page.get_by_role("button", name="New weekly show").click()
    form = page.get_by_test_id("show-form")
    await form.get_by_label("Title").fill("   ")
    console.expect_http_error(422, f"/api/v1/brands/{live_server.demo.brand_slug}/shows")
    await form.get_by_role("button", name="Create show").click()
    await expect(form.get_by_test_id("show-form-error")).to_contain_text("Title: String should have at least 1")
    await expect(form.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    await expect(form).to_be_visible()

    # Friday Drops: every Friday at 18:30 in Paris, from next Friday.
    friday = next_weekday(4)
    await form.get_by_label("Title").fill("Friday Drops")
    await form.get_by_label("Description").fill("New arrivals, first come first served.")
    await form.get_by_label("First episode").fill(friday.isoformat())
    await form.get_by_label("Starts at").fill("18:30")
    await form.get_by_label("Time zone").select_option("Europe/Paris")
    await form.get_by_label("Every week").check()
    await form.get_by_label("Duration (minutes)").fill("45")
    await form.get_by_label("Default host").select_option(label="Inès")
    await expect(form.get_by_test_id("show-form-summary")).to_have_text("Every Friday at 18:30, Europe/Paris time.")
    await page.screenshot(path=results_dir / "manager-new-show.png", full_page=True)
    await form.get_by_role("button", name="Create show").click()

    await expect(form).to_be_hidden()
    await expect(page.get_by_test_id("show-title")).to_have_text("Friday Drops")
    await expect(page.get_by_test_id("show-item")).to_have_count(2)
    await expect(page.get_by_test_id("notice")).to_have_text("“Friday Drops” is planned.")
    await expect(episodes).to_have_count(8)
    times = await page.get_by_test_id("episode-time").all_inner_texts()
    assert all("18:30" in t and t.startswith("Fri") for t in times), times
    first_start = datetime.combine(friday, time(18, 30), PARIS).astimezone(UTC)
    first_instant = await episodes.first.get_by_test_id("episode-time").get_attribute("datetime")
    assert first_instant is not None
    assert datetime.fromisoformat(first_instant) == first_start

    # The calendar link: absolute, copyable, subscribable, and a real weekly iCalendar series.
    calendar_input = page.get_by_test_id("calendar-url")
    pattern = rf"^http://127\.0\.0\.1:{live_server.port}/api/v1/public/shows/[0-9a-f-]{{36}}/calendar\.ics$"
    await expect(calendar_input).to_have_value(re.compile(pattern))
    calendar_url = await calendar_input.input_value()
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_test_id("copy-feedback")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == calendar_url
    subscribe = page.get_by_role("link", name="Subscribe in your calendar app")
    await expect(subscribe).to_have_attribute("href", calendar_url.replace("http://", "webcal://", 1))

    status, content_type, body = await fetch(calendar_url)
    assert status == 200
    assert content_type.startswith("text/calendar")
    assert "RRULE:FREQ=WEEKLY" in body
    assert "TZID=Europe/Paris" in body
    assert "SUMMARY:Friday Drops" in body

    # Cancelling the demo show's second episode, after saying yes.
    await page.get_by_test_id("show-item").filter(has_text=demo.SHOW_TITLE).click()
    await expect(page.get_by_test_id("show-title")).to_have_text(demo.SHOW_TITLE)
    second = episodes.nth(1)
    await second.get_by_role("button", name="Cancel").click()
    await second.get_by_role("button", name="Keep it").click()
    await expect(second).to_have_attribute("data-status", "scheduled")
    await second.get_by_role("button", name="Cancel").click()
    await second.get_by_role("button", name="Yes, cancel it").click()
    await expect(second.get_by_test_id("episode-status")).to_have_text("Cancelled")
    await expect(second).to_have_attribute("data-status", "cancelled")
    await expect(second.get_by_role("button", name="Cancel")).to_have_count(0)
    await expect(page.get_by_test_id("notice")).to_contain_text("is cancelled")

    await page.screenshot(path=results_dir / "manager-page.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=results_dir / "manager-page-mobile.png", full_page=True)

    # The sign-in lasts the browser tab (sessionStorage): a reload keeps it, signing out ends it.
    await page.reload()
    await expect(page.get_by_test_id("workspace-title")).to_have_text("Maison Lumière")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_test_id("sign-in")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0
    console.assert_clean()


async def test_host_reads_the_schedule_without_manager_controls(
    live_server: LiveServer, browser_page: BrowserPage
) -> None:
    page, console = browser_page.page, browser_page.console
    await page.goto(f"{live_server.url}/manage")
    await sign_in(page, "host@demo.shopcast.test", demo.PASSWORD)

    await expect(page.get_by_test_id("brand-role")).to_have_text("Your role: host")
    await expect(page.get_by_test_id("episode")).to_have_count(8)
    await expect(page.get_by_test_id("episode-time").first).to_contain_text("19:00")
    await expect(page.get_by_role("button", name="New weekly show")).to_be_hidden()
    await expect(page.get_by_test_id("cancel-episode")).to_have_count(0)
    await expect(page.get_by_test_id("calendar-url")).to_have_value(re.compile(r"/calendar\.ics$"))

    # Each coming episode links to its studio and its watch page; the studio keeps the tab's sign-in.
    await expect(page.get_by_test_id("studio-link")).to_have_count(8)
    await expect(page.get_by_test_id("watch-link")).to_have_count(8)
    first = page.get_by_test_id("episode").first
    episode_id = await first.get_attribute("data-episode-id")
    await expect(first.get_by_role("link", name="Watch page")).to_have_attribute("href", f"/watch/{episode_id}")
    await first.get_by_role("link", name="Studio").click()
    await expect(page).to_have_url(f"{live_server.url}/studio/{episode_id}")
    await expect(page.get_by_test_id("account-name")).to_have_text("Inès")
    await expect(page.get_by_test_id("episode-title")).to_have_text(demo.SHOW_TITLE)
    await expect(page.get_by_role("button", name="Go live")).to_be_enabled()
    console.assert_clean()
