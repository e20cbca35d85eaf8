"""A brand that sells: commerce settings, a product with sizes, and a live episode to sell it in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.chat.conftest import Join, Room, join, room  # noqa: F401  (the live room's fixtures)
from tests.factories import Factory

__all__ = ["Join", "Shop"]

DRESS = {
    "handle": "linen-dress",
    "title": "Linen dress",
    "summary": "Washed linen, midi length",
    "image_urls": ["https://cdn.example.test/dress.jpg"],
    "price": 4990,
    "compare_at_price": 6990,
    "variants": [
        {"sku": "DRESS-S", "options": {"size": "S"}, "stock": 5},
        {"sku": "DRESS-M", "options": {"size": "M"}, "stock": 3},
        {"sku": "DRESS-L", "options": {"size": "L"}, "stock": 0},
    ],
}
COMMERCE = {
    "currency": "EUR",
    "flat_rate": 490,
    "free_above": 10000,
    "pickup_stores": [{"id": "paris-1", "name": "Paris Marais", "address": "12 rue des Archives, Paris"}],
    "tax_rate_percent": 20,
    "tax_included": True,
}


@dataclass
class Shop:
    room: Room
    client: Any
    factory: Factory
    product: dict[str, Any]

    @property
    def episode_id(self) -> str:
        return self.room.episode_id

    def variant(self, size: str) -> dict[str, Any]:
        return next(v for v in self.product["variants"] if v["options"].get("size") == size)

    async def guest(self, nickname: str = "Lea") -> dict[str, str]:
        return await self.factory.guest(nickname)

    async def add(self, headers: dict[str, str], size: str = "S", quantity: int = 1, *, live: bool = True) -> Any:
        body: dict[str, Any] = {"variant_id": self.variant(size)["id"], "quantity": quantity}
        if live:
            body["episode_id"] = self.episode_id
        return await self.client.post("/api/v1/brands/acme/cart/items", json=body, headers=headers)

    async def order(self, headers: dict[str, str], key: str, **fields: Any) -> Any:
        body = {
            "email": "lea@example.com",
            "name": "Léa Martin",
            "shipping": {"method": "pickup", "store_id": "paris-1"},
            **fields,
        }
        return await self.client.post(
            "/api/v1/brands/acme/orders", json=body, headers={**headers, "Idempotency-Key": key}
        )

    async def pin(self, product_id: str | None = None) -> Any:
        response = await self.client.post(
            f"/api/v1/episodes/{self.episode_id}/pin",
            json={"product_id": product_id or self.product["id"]},
            headers=self.room.host.headers,
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def stock(self, size: str) -> int:
        response = await self.client.get(f"/api/v1/public/products/{self.product['id']}")
        card = await response.json()
        return next(v["stock"] for v in card["variants"] if v["options"].get("size") == size)


@pytest.fixture
async def shop(client: Any, factory: Factory, room: Room) -> Shop:  # noqa: F811
    manager = room.manager
    response = await client.put("/api/v1/brands/acme/commerce", json=COMMERCE, headers=manager.headers)
    assert response.status == 200, await response.text()
    response = await client.post("/api/v1/brands/acme/products", json=DRESS, headers=manager.headers)
    assert response.status == 201, await response.text()
    return Shop(room, client, factory, await response.json())
