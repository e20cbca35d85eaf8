"""A brand that sells: commerce settings, a product with sizes, and a live episode to sell it in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.chat.conftest import Join, Room, join, room  # noqa: F401  (the live room's fixtures)
from tests.factories import Factory, Staff

__all__ = ["DELIVERY", "Join", "Rival", "Shop"]

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


DELIVERY = {
    "method": "delivery",
    "address": {"line1": "3 rue Oberkampf", "postal_code": "75011", "city": "Paris", "country": "fr"},
}


@dataclass
class Rival:
    """Another brand, with its manager and a product of its own."""

    slug: str
    manager: Staff
    product: dict[str, Any]


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

    async def placed(self, headers: dict[str, str], key: str, **fields: Any) -> dict[str, Any]:
        """The order placed (201), as `order` sends it."""
        response = await self.order(headers, key, **fields)
        assert response.status == 201, await response.text()
        return await response.json()

    async def buy(self, headers: dict[str, str], key: str, size: str = "S", **fields: Any) -> dict[str, Any]:
        """One unit of a size added during the live, and the order placed for the cart."""
        await self.add(headers, size)
        return await self.placed(headers, key, **fields)

    async def order_seen(self, headers: dict[str, str], order_id: str) -> dict[str, Any]:
        """The order as its buyer (or the brand's staff) reads it."""
        response = await self.client.get(f"/api/v1/orders/{order_id}", headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    async def move(self, order_id: str, status: str, headers: dict[str, str] | None = None) -> Any:
        """Ask to move an order on (as the brand's manager unless told)."""
        return await self.client.post(
            f"/api/v1/orders/{order_id}/status", json={"status": status}, headers=headers or self.room.manager.headers
        )

    async def pin(self, product_id: str | None = None) -> Any:
        response = await self.client.post(
            f"/api/v1/episodes/{self.episode_id}/pin",
            json={"product_id": product_id or self.product["id"]},
            headers=self.room.host.headers,
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def cart(self, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.get("/api/v1/brands/acme/cart", headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    async def orders(self, query: str = "") -> list[dict[str, Any]]:
        """The brand's orders, as its manager lists them."""
        response = await self.client.get(f"/api/v1/brands/acme/orders{query}", headers=self.room.manager.headers)
        assert response.status == 200, await response.text()
        return await response.json()

    async def sell(self, **changes: Any) -> dict[str, Any]:
        """Change the brand's commerce settings (as its manager); returns them with the shop secret."""
        response = await self.client.put(
            "/api/v1/brands/acme/commerce", json={**COMMERCE, **changes}, headers=self.room.manager.headers
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def rival(self, slug: str = "globex") -> Rival:
        await self.factory.brand(slug)
        manager = await self.factory.staff(slug, "manager")
        body = {"title": "Wool coat", "price": 12900, "variants": [{"sku": "COAT-M", "stock": 2}]}
        response = await self.client.post(f"/api/v1/brands/{slug}/products", json=body, headers=manager.headers)
        assert response.status == 201, await response.text()
        return Rival(slug, manager, await response.json())

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
