"""Webhooks at work: the real app with its outbox worker on, a brand that sells, and a shop on 127.0.0.1
receiving the deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop, join, room, shop  # noqa: F401  (the shop's fixtures)
from tests.conftest import make_settings
from tests.contests.conftest import giveaways  # noqa: F401  (a live episode's giveaways)
from tests.emails.conftest import eventually
from tests.factories import Staff
from tests.webhooks.receiver import receiver  # noqa: F401  (a shop on 127.0.0.1)

__all__ = ["WEBHOOKS", "Hooks", "eventually"]

ORDER_EVENTS = ["order.created", "order.paid", "order.fulfilled", "order.cancelled"]
# Retries a few minutes apart, so a test moves the app's clock to make the next one due; a shop that
# does not answer is given up on after a second.
WEBHOOKS: dict[str, Any] = {
    "outbox_worker": True,
    "outbox_poll_seconds": 0.02,
    "outbox_batch_size": 4,
    "webhooks_allow_http": True,
    "webhooks_allow_private": True,
    "webhooks_timeout_seconds": 1,
    "webhooks_retry_seconds": [5, 300, 1800],
}


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, **backend, **WEBHOOKS)


class Hooks:
    """The brand's webhooks through the API, as its manager (unless told) uses them."""

    def __init__(self, client: Any, manager: Staff, brand: str = "acme") -> None:
        self.client = client
        self.manager = manager
        self.brand = brand

    async def add(self, url: str, events: list[str] | None = None, **fields: Any) -> dict[str, Any]:
        """A new endpoint, with its secret."""
        body = {"url": url, "events": events or ORDER_EVENTS, **fields}
        response = await self.client.post(
            f"/api/v1/brands/{self.brand}/webhooks", json=body, headers=self.manager.headers
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def call(self, method: str, path: str, status: int = 200, **options: Any) -> Any:
        response = await self.client.request(
            method, f"/api/v1/webhooks/{path}", headers=self.manager.headers, **options
        )
        assert response.status == status, await response.text()
        return await response.json() if response.status != 204 else None

    async def deliveries(self, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.call("GET", f"{endpoint['id']}/deliveries")

    async def settled(
        self, endpoint: dict[str, Any], count: int, *, states: tuple[str, ...] = ("sent", "dead")
    ) -> list[dict[str, Any]]:
        """The endpoint's `count` deliveries, newest first, once each is in one of `states`."""

        async def check() -> list[dict[str, Any]] | None:
            found = await self.deliveries(endpoint)
            return found if len(found) == count and all(d["state"] in states for d in found) else None

        return await eventually(check)

    async def test(self, endpoint: dict[str, Any]) -> dict[str, Any]:
        return await self.call("POST", f"{endpoint['id']}/test", status=201)


@pytest.fixture
def hooks(shop: Shop) -> Hooks:  # noqa: F811
    return Hooks(shop.client, shop.room.manager)
