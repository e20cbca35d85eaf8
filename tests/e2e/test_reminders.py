"""A viewer on a phone taps "Remind me" under an episode's countdown: the reminder comes (kept in the data
folder, as with `make run`: there is no SMTP server), and its unsubscribe link works in the browser."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from shopcast import demo

from .accessibility import blocking_violations
from .conftest import BrowserPage, LiveServer, OpenContext, demo_server, watched_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The demo on a port known beforehand, so that links in emails point at it; the worker sweeps often."""
    port = free_port()
    changes = {"public_url": f"http://127.0.0.1:{port}", "outbox_poll_seconds": 0.1, "outbox_sweep_seconds": 0.2}
    async with demo_server(tmp_path, port=port, **changes) as running:
        yield running


async def episode_soon(server: LiveServer) -> str:
    """A one-off episode of the demo show starting in ten minutes: its reminder is due at once."""
    starts_at = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0).isoformat()
    async with aiohttp.ClientSession(server.url) as http:
        login = {"email": "manager@demo.shopcast.test", "password": demo.PASSWORD}
        async with http.post("/api/v1/auth/login", json=login) as response:
            token = (await response.json())["token"]
        async with http.post(
            f"/api/v1/shows/{server.demo.show_id}/episodes",
            json={"starts_at": starts_at, "title": "Autumn preview"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 201, await response.text()
            return str((await response.json())["id"])


async def kept_email(data_dir: Path, within: float = 15) -> EmailMessage:
    """The one email kept in the data folder, once the worker has written it."""
    deadline = time.monotonic() + within
    while not (found := list((data_dir / "mail").glob("*/*.eml"))):
        assert time.monotonic() < deadline, "no email was kept"
        await asyncio.sleep(0.1)
    [path] = found
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())  # type: ignore[return-value]


async def test_a_viewer_on_a_phone_asks_for_a_reminder_gets_it_and_unsubscribes_from_its_link(
    server: LiveServer, open_context: OpenContext, tmp_path: Path, results_dir: Path
) -> None:
    episode_id = await episode_soon(server)
    viewer: BrowserPage = await watched_page(
        await open_context("phone", viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    )
    page = viewer.page
    await page.goto(f"{server.url}/watch/{episode_id}")
    form = page.get_by_test_id("remind-form")
    await expect(page.get_by_test_id("countdown")).to_be_visible()
    await form.scroll_into_view_if_needed()
    await expect(form.get_by_role("heading", name="Get a reminder")).to_be_visible()

    # Without the consent ticked, nothing is sent: the form says what is missing.
    await form.get_by_label("Email", exact=True).fill("lea@example.com")
    await form.get_by_role("button", name="Remind me").tap()
    await expect(page.get_by_test_id("remind-status")).to_have_text(
        "Enter your email and tick the box to get a reminder."
    )
    await expect(page.get_by_test_id("remind-consent")).to_have_attribute("aria-invalid", "true")

    await page.get_by_test_id("remind-consent").tap()
    await form.get_by_role("button", name="Remind me").tap()
    await expect(page.get_by_test_id("remind-status")).to_contain_text("Done: lea@example.com gets a reminder around")
    assert await blocking_violations(page) == []
    await page.screenshot(path=results_dir / "watch-remind-me-phone.png", full_page=True)

    email = await kept_email(tmp_path / "data")
    assert email["To"] == "lea@example.com" and email["Subject"].startswith("Starting soon: Autumn preview at ")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(email["List-Unsubscribe"])[1:-1]
    assert link.startswith(f"{server.url}/unsubscribe?token=")

    await page.goto(link)
    await expect(page.get_by_test_id("unsubscribe-title")).to_have_text("Stop emails from Maison Lumière?")
    await expect(page.get_by_test_id("unsubscribe-text")).to_contain_text("lea@example.com")
    assert await blocking_violations(page) == []
    await page.get_by_role("button", name="Unsubscribe").tap()
    await expect(page.get_by_test_id("unsubscribe-title")).to_have_text("Unsubscribed")
    await expect(page.get_by_test_id("unsubscribe-text")).to_have_text(
        "Maison Lumière will send no more reminders or follow-ups to lea@example.com."
    )
    await page.reload()  # the link once used still says so
    await expect(page.get_by_test_id("unsubscribe-title")).to_have_text("Unsubscribed")
    viewer.console.assert_clean()
