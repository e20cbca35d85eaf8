"""The outbox at work: the real app with its worker on, a real SMTP server on 127.0.0.1, a shop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop, join, room, shop  # noqa: F401  (the shop's fixtures)
from tests.conftest import make_settings
from tests.emails.smtp_server import SmtpServer
from tests.factories import Staff

# Retries an hour apart at most, so a test moves the app's clock to make the next one due.
OUTBOX = {
    "outbox_worker": True,
    "outbox_poll_seconds": 0.02,
    "outbox_max_attempts": 3,
    "outbox_retry_seconds": 60,
    "outbox_retry_max_seconds": 3600,
}


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any], smtp: SmtpServer) -> Settings:
    return make_settings(tmp_path, **backend, **OUTBOX, smtp_url=smtp.url)


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    """The first truthy result of `check`, asked again until it comes (the worker runs meanwhile)."""
    deadline = time.monotonic() + within
    while not (found := await check()):
        assert time.monotonic() < deadline, "it did not happen in time"
        await asyncio.sleep(0.02)
    return found


async def emails(client: Any, manager: Staff, brand: str = "acme", query: str = "") -> list[dict[str, Any]]:
    """The brand's emails, as its manager lists them, newest first."""
    response = await client.get(f"/api/v1/brands/{brand}/emails{query}", headers=manager.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def settled(selling: Shop, count: int, *, states: tuple[str, ...] = ("sent", "dead")) -> list[dict[str, Any]]:
    """The brand's `count` emails once each is in one of `states`."""

    async def check() -> list[dict[str, Any]] | None:
        found = await emails(selling.client, selling.room.manager)
        ready = len(found) == count and all(email["state"] in states for email in found)
        return found if ready else None

    return await eventually(check)
