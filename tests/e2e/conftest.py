"""Browser fixtures: the real app on a real port (SQLite, demo data) and a loopback-only Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import BrowserContext, ConsoleMessage, Error, Page, async_playwright

from shopcast import demo
from shopcast.core import migrate
from shopcast.core.db import Database, create_engine
from shopcast.core.settings import Settings
from shopcast.web.app import create_app

from .browser import launch, require_chromium

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "shopcast" / "web" / "static" / "dist" / "manager.js"
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


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app from the production factory on 127.0.0.1, with the demo brand seeded."""
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE.relative_to(REPO)} is missing: run `npm ci && npm run build` first", pytrace=False)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", secret_key=SECRET)  # type: ignore[call-arg]
    settings.data_dir.mkdir(parents=True)
    database = Database(create_engine(settings.effective_database_url))
    try:
        await migrate.upgrade(database.engine)
        async with database.transaction() as session:
            seeded = await demo.seed(session, now=datetime.now(UTC), weeks=settings.schedule_weeks)
    finally:
        await database.close()

    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", port=port, demo=seeded)
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser_context(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """A fresh Chromium profile. The device is in New York on purpose: show times must not follow it."""
    async with async_playwright() as playwright:
        context = await launch(
            playwright,
            tmp_path / "chromium-profile",
            locale="en-GB",
            timezone_id="America/New_York",
            viewport={"width": 1280, "height": 860},
        )
        try:
            yield context
        finally:
            await context.close()


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


@pytest.fixture
async def browser_page(browser_context: BrowserContext) -> AsyncIterator[BrowserPage]:
    page = browser_context.pages[0] if browser_context.pages else await browser_context.new_page()
    watch = ConsoleWatch()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    yield BrowserPage(page, watch)
