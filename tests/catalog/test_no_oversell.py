"""A flash sale: many buyers at once for a few units, on SQLite and PostgreSQL. Exactly as many
orders as units come out of it, stock ends at zero, and everyone else hears "sold out"."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop
from tests.conftest import make_settings

BUYERS = 200
UNITS = 20


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    # Every buyer is a guest from the same test address: let them all in.
    return make_settings(tmp_path, guest_max_per_window=BUYERS + 10, **backend)


async def _flash_product(shop: Shop) -> str:
    body = {
        "handle": "flash-bag",
        "title": "Flash bag",
        "price": 9900,
        "variants": [{"sku": "BAG-1", "stock": UNITS}],
    }
    response = await shop.client.post("/api/v1/brands/acme/products", json=body, headers=shop.room.manager.headers)
    assert response.status == 201, await response.text()
    return (await response.json())["variants"][0]["id"]


async def _buy(shop: Shop, variant_id: str, n: int, *, live: bool) -> tuple[int, int | None]:
    """One buyer taps "add" then pays; (add status, order status or None when the add failed)."""
    headers = await shop.guest(f"Buyer{n}")
    body: dict[str, Any] = {"variant_id": variant_id}
    if live:
        body["episode_id"] = shop.episode_id
    added = await shop.client.post("/api/v1/brands/acme/cart/items", json=body, headers=headers)
    if added.status != 201:
        assert added.status == 409, await added.text()
        assert "sold out" in (await added.json())["detail"]
        return added.status, None
    ordered = await shop.order(headers, str(uuid.uuid4()))
    if ordered.status == 409:
        assert "sold out" in (await ordered.json())["detail"]
    return added.status, ordered.status


@pytest.mark.parametrize("live", [True, False], ids=["held-during-live", "taken-at-checkout"])
async def test_many_buyers_for_few_units_make_exactly_that_many_orders(shop: Shop, live: bool) -> None:
    variant_id = await _flash_product(shop)
    results = await asyncio.gather(*(_buy(shop, variant_id, n, live=live) for n in range(BUYERS)))

    orders = [r for r in results if r[1] == 201]
    assert len(orders) == UNITS
    assert all(order in (201, 409, None) for _, order in results)
    if live:  # the hold decided it at the tap: nobody who got the piece in the cart lost it at checkout
        assert sum(1 for added, _ in results if added == 201) == UNITS
    listed = await shop.client.get("/api/v1/brands/acme/orders?limit=500", headers=shop.room.manager.headers)
    assert len(await listed.json()) == UNITS
    card = await (await shop.client.get(f"/api/v1/public/products/{(await _product_id(shop))}")).json()
    assert card["variants"][0]["stock"] == 0
    assert card["sold_out"] is True


async def _product_id(shop: Shop) -> str:
    products = await shop.client.get("/api/v1/brands/acme/products", headers=shop.room.manager.headers)
    return next(p["id"] for p in await products.json() if p["handle"] == "flash-bag")
