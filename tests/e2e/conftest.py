"""Browser fixtures: the real app on a real port (SQLite, demo data) and a loopback-only Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import BrowserContext, ConsoleMessage, Error, Page, Playwright, async_playwright, expect

from shopcast import demo
from shopcast.core import migrate
from shopcast.core.db import Database, create_engine
from shopcast.core.settings import Settings
from shopcast.web.app import create_app
from tests.conftest import NoDns

from .browser import launch, require_chromium

REPO = Path(__file__).resolve().parents[2]
BUNDLES = [REPO / "shopcast" / "web" / "static" / "dist" / f"{page}.js" for page in ("manager", "studio", "watch")]
# Screenshots land where humans look for them, not in pytest's temporary folders.
RESULTS = REPO / "test-results" / "e2e"
SECRET = "e2e-secret-key-that-is-long-enough-for-hs256"


@pytest.fixture(autouse=True)
def _chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS


@dataclass
class LiveServer:
    url: str
    """http://127.0.0.1:PORT, never a host name."""
    port: int
    demo: demo.Demo
    database_url: str
    """The server's database, for a test to change what its API cannot (a member's role)."""
    app: web.Application
    """The app itself, for a test to take what the app holds (its database connections, in a rush)."""


@asynccontextmanager
async def demo_server(tmp_path: Path, *, port: int = 0, **changes: Any) -> AsyncIterator[LiveServer]:
    """The app from the production factory on 127.0.0.1 (`port`, or any free one), with the demo brand
    seeded and these settings changed."""
    for bundle in BUNDLES:
        if not bundle.exists():
            pytest.fail(f"{bundle.relative_to(REPO)} is missing: run `npm ci && npm run build` first", pytrace=False)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        secret_key=SECRET,
        # WebRTC on loopback only: no STUN, gather and announce 127.0.0.1, accept only loopback peers.
        ice_servers=[],
        webrtc_hosts=["127.0.0.1"],
        webrtc_peer_networks=["127.0.0.0/8"],
        # Webhooks to a receiver on this machine, as `shopcast demo` allows.
        webhooks_allow_http=True,
        webhooks_allow_private=True,
        **changes,
    )
    settings.data_dir.mkdir(parents=True)
    database = Database(create_engine(settings.effective_database_url))
    try:
        await migrate.upgrade(database.engine)
        async with database.transaction() as session:
            seeded = await demo.seed(session, now=datetime.now(UTC), weeks=settings.schedule_weeks)
    finally:
        await database.close()

    runner = web.AppRunner(create_app(settings, resolver=NoDns()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}"
        yield LiveServer(url=url, port=port, demo=seeded, database_url=settings.effective_database_url, app=runner.app)
    finally:
        await runner.cleanup()


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app from the production factory on 127.0.0.1, with the demo brand seeded."""
    async with demo_server(tmp_path) as server:
        yield server


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


OpenContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def open_context(playwright: Playwright, tmp_path: Path) -> AsyncIterator[OpenContext]:
    """More Chromiums, each with its own fresh profile (a host and a viewer are different people)."""
    contexts: list[BrowserContext] = []

    async def open_one(name: str, **options: object) -> BrowserContext:
        options = {"locale": "en-GB", "timezone_id": "America/New_York", **options}
        context = await launch(playwright, tmp_path / f"chromium-{name}", **options)
        contexts.append(context)
        return context

    try:
        yield open_one
    finally:
        for context in contexts:
            await context.close()


@pytest.fixture
async def browser_context(open_context: OpenContext) -> BrowserContext:
    """A fresh Chromium profile. The device is in New York on purpose: show times must not follow it."""
    return await open_context("profile", viewport={"width": 1280, "height": 860})


@dataclass
class ConsoleWatch:
    """Errors the page logged (CSP violations, failed requests, uncaught exceptions), with their URL."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    provoked: list[tuple[int, str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append((message.text, message.location.get("url", "")))

    def on_page_error(self, error: Error) -> None:
        self.errors.append((f"uncaught {error.name}: {error.message}", ""))

    def expect_http_error(self, status: int, path: str) -> None:
        """Chromium logs every 4xx response as an error; this one the test provokes on purpose."""
        self.provoked.append((status, path))

    def _provoked(self, text: str, url: str) -> bool:
        return any(f"status of {status} " in text and urlsplit(url).path == path for status, path in self.provoked)

    def unexpected(self) -> list[str]:
        return [f"{text} [{url}]" for text, url in self.errors if not self._provoked(text, url)]

    def assert_clean(self) -> None:
        assert self.unexpected() == [], "the page logged errors"


@dataclass
class BrowserPage:
    page: Page
    console: ConsoleWatch


async def watched_page(context: BrowserContext) -> BrowserPage:
    """The context's page, with its console errors collected."""
    page = context.pages[0] if context.pages else await context.new_page()
    watch = ConsoleWatch()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    return BrowserPage(page, watch)


@pytest.fixture
async def browser_page(browser_context: BrowserContext) -> BrowserPage:
    return await watched_page(browser_context)


async def sign_in(page: Page, email: str, password: str) -> None:
    """Fill the staff sign-in form (manager page, studio) and submit it."""
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def open_catalog(page: Page, server: LiveServer) -> None:
    """The demo brand's products on the manager page, as its manager."""
    await page.goto(f"{server.url}/manage")
    await sign_in(page, "manager@demo.shopcast.test", demo.PASSWORD)
    # The tab: each episode row also has a "Products" button, named "Products of the episode on …".
    await page.get_by_role("button", name="Products", exact=True).click()


async def coming_episodes(server: LiveServer) -> list[dict[str, Any]]:
    """The demo show's coming episodes, soonest first, as the public API gives them."""
    url = f"{server.url}/api/v1/public/shows/{server.demo.show_id}/episodes"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.json()


async def open_card(page: Page) -> None:
    """On a phone the card in front is a strip over the video: one tap opens it as a sheet."""
    if await page.get_by_test_id("overlay").get_attribute("data-folded") is not None:
        await page.get_by_test_id("overlay-open").click()
        await expect(page.get_by_test_id("overlay")).to_have_attribute("data-sheet", "")
