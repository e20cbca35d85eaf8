"""Checkout through the API: totals by the brand's rules, one order per Idempotency-Key, the order's life."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.catalog.conftest import DELIVERY, Shop
from tests.conftest import SettableClock
from tests.problems import refused

PICKUP = {"method": "pickup", "store_id": "paris-1"}


def totals(items: int, shipping: int, tax: int, total: int, *, tax_included: bool = True) -> dict[str, Any]:
    return {
        "items": items,
        "shipping": shipping,
        "tax": tax,
        "tax_included": tax_included,
        "total": total,
        "currency": "EUR",
    }


async def quote(shop: Shop, headers: dict[str, str], shipping: dict[str, Any], **extra: Any) -> Any:
    return await shop.client.post(
        "/api/v1/brands/acme/checkout/quote", json={"shipping": shipping, **extra}, headers=headers
    )


async def quoted(shop: Shop, headers: dict[str, str], shipping: dict[str, Any]) -> dict[str, Any]:
    response = await quote(shop, headers, shipping)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_totals_follow_the_brands_shipping_and_tax_rules(shop: Shop) -> None:
    lea = await shop.guest()
    await shop.add(lea, "S")
    # Flat rate below the threshold; 20 % tax included: 5480 - round(5480 / 1.2).
    assert await quoted(shop, lea, DELIVERY) == totals(4990, 490, 913, 5480)
    assert await quoted(shop, lea, {"method": "delivery"}) == totals(4990, 490, 913, 5480)
    # Click & collect in a listed store is free: 4990 - round(4990 / 1.2).
    assert await quoted(shop, lea, PICKUP) == totals(4990, 0, 832, 4990)
    response = await quote(shop, lea, {"method": "pickup", "store_id": "lyon-2"})
    await refused(response, 422, "shipping.store_id: no pickup store 'lyon-2' in this brand")
    await refused(await quote(shop, lea, {"method": "drone"}), 422, "shipping")

    await shop.add(lea, "S", 2)  # 3 x 49.90 = 149.70, above the free delivery threshold of 100.00
    assert await quoted(shop, lea, DELIVERY) == totals(14970, 0, 2495, 14970)

    await shop.sell(tax_included=False, tax_rate_percent=5.5)  # tax added: round(14970 x 5.5 %)
    assert await quoted(shop, lea, DELIVERY) == totals(14970, 0, 823, 15793, tax_included=False)
    await shop.sell(tax_included=False, tax_rate_percent=5.5, free_above=None)  # always the flat rate
    assert await quoted(shop, lea, DELIVERY) == totals(14970, 490, 850, 16310, tax_included=False)
    shipping = await (await shop.client.get("/api/v1/public/brands/acme/shipping")).json()
    assert (shipping["flat_rate"], shipping["free_above"], shipping["tax_included"]) == (490, None, False)

    order = await shop.placed(lea, "order-1", shipping=DELIVERY)
    assert order["totals"] == totals(14970, 490, 850, 16310, tax_included=False)
    assert (await shop.cart(lea))["items"] == []


async def test_the_order_is_the_cart_priced_as_quoted(shop: Shop) -> None:
    lea = await shop.guest()
    await shop.add(lea, "S", 2)
    await shop.add(lea, "M", live=False)
    quote_before = await quoted(shop, lea, PICKUP)
    assert quote_before == totals(14970, 0, 2495, 14970)
    response = await shop.order(lea, "order-1", email="Lea@Example.com")
    assert response.status == 201, await response.text()
    order = await response.json()
    assert response.headers["Location"] == f"/api/v1/orders/{order['id']}"
    assert order["totals"] == quote_before
    assert order["status"] == "pending_payment" and order["number"].startswith("SC-")
    assert sorted((i["sku"], i["label"], i["quantity"], i["unit_price"], i["line_total"]) for i in order["items"]) == [
        ("DRESS-M", "M", 1, 4990, 4990),
        ("DRESS-S", "S", 2, 4990, 9980),
    ]
    assert order["shipping"] == {
        "method": "pickup",
        "address": None,
        "store": {"id": "paris-1", "name": "Paris Marais", "address": "12 rue des Archives, Paris"},
    }
    assert (order["email"], order["name"]) == ("Lea@example.com", "Léa Martin")
    assert (await shop.stock("S"), await shop.stock("M")) == (3, 2)  # held units kept, the other taken
    assert await shop.cart(lea) == {**await shop.cart(lea), "items": [], "subtotal": 0, "item_count": 0}

    delivered = await shop.buy(lea, "order-2", shipping=DELIVERY)
    assert delivered["shipping"]["address"] == {
        "line1": "3 rue Oberkampf",
        "line2": "",
        "postal_code": "75011",
        "city": "Paris",
        "country": "FR",
    }
    assert delivered["totals"] == totals(4990, 490, 913, 5480)
    response = await shop.order(lea, "order-3", shipping={"method": "delivery"})
    await refused(response, 422, "shipping.address: where should the order be delivered?")
    await refused(await shop.order(lea, "order-4", email="lea@localhost"), 422, "email")


async def test_an_idempotency_key_gives_one_order(shop: Shop) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    await shop.add(lea, "S")
    body = {"email": "lea@example.com", "name": "Léa Martin", "shipping": PICKUP}
    for headers in ({}, {"Idempotency-Key": "   "}, {"Idempotency-Key": "k" * 201}):
        response = await shop.client.post("/api/v1/brands/acme/orders", json=body, headers={**lea, **headers})
        await refused(response, 400, "send an Idempotency-Key header")
    assert await shop.orders() == [] and (await shop.cart(lea))["item_count"] == 1

    first = await shop.order(lea, "3f1c-order")
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers
    again = await shop.order(lea, "3f1c-order")
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    order = await first.json()
    assert await again.json() == order
    assert [o["id"] for o in await shop.orders()] == [order["id"]]
    assert await shop.stock("S") == 4  # one unit sold, once

    response = await shop.order(lea, "3f1c-order", email="someone@example.com")
    await refused(response, 422, "Idempotency-Key: already used for a different order")
    response = await shop.order(lea, "3f1c-order", payment="brand_shop")
    await refused(response, 422, "Idempotency-Key: already used for a different order")
    await refused(await shop.order(lea, "another-order"), 409, "your cart is empty")

    await shop.add(tom, "M")  # keys are the buyer's own: Tom's first key is new for him
    toms = await shop.order(tom, "3f1c-order", email="tom@example.com")
    assert toms.status == 201 and (await toms.json())["id"] != order["id"]
    assert len(await shop.orders()) == 2


async def test_prices_and_totals_sent_by_the_client_are_ignored(shop: Shop) -> None:
    lea = await shop.guest()
    body = {"variant_id": shop.variant("S")["id"], "quantity": 2, "price": 1, "unit_price": 1, "line_total": 2}
    response = await shop.client.post("/api/v1/brands/acme/cart/items", json=body, headers=lea)
    cart = await response.json()
    assert (cart["items"][0]["unit_price"], cart["items"][0]["line_total"], cart["subtotal"]) == (4990, 9980, 9980)
    response = await quote(shop, lea, {**PICKUP, "price": -500}, items=1, total=1, tax=0)
    assert await response.json() == totals(9980, 0, 1663, 9980)
    order = await shop.placed(
        lea,
        "cheap",
        total=1,
        totals={"items": 1, "total": 1},
        items=[{"variant_id": shop.variant("S")["id"], "quantity": 2, "unit_price": 1}],
        status="paid",
    )
    assert order["totals"] == totals(9980, 0, 1663, 9980)
    assert order["status"] == "pending_payment"
    assert [(i["quantity"], i["unit_price"]) for i in order["items"]] == [(2, 4990)]


async def test_a_stale_cart_is_refused_and_nothing_is_written(shop: Shop, clock: SettableClock) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    await shop.add(lea, "S")  # held during the live
    clock.advance(seconds=1)  # the cart lists lines in the order added
    await shop.add(lea, "M", 2, live=False)  # checked now, taken at checkout
    await shop.add(tom, "M", 2)  # Tom's live hold leaves one M
    before = await shop.cart(lea)
    assert [(i["sku"], i["problem"], i["available"]) for i in before["items"]] == [
        ("DRESS-S", None, 5),
        ("DRESS-M", "short", 1),
    ]
    body = await refused(await shop.order(lea, "lea-1"), 409, "only 1 left of Linen dress (M)")
    assert (body["variant_id"], body["available"]) == (shop.variant("M")["id"], 1)
    await shop.add(tom, "M")
    body = await refused(await shop.order(lea, "lea-1"), 409, "sold out: Linen dress (M)")
    assert body["available"] == 0

    s_line, m_line = before["items"]
    assert await shop.cart(lea) == {**before, "items": [s_line, {**m_line, "available": 0, "problem": "sold_out"}]}
    assert (await shop.stock("S"), await shop.stock("M")) == (4, 0)
    assert await shop.orders() == []

    response = await shop.client.delete(f"/api/v1/brands/acme/cart/items/{m_line['id']}", headers=lea)
    assert response.status == 200
    order = await shop.placed(lea, "lea-1")  # the refused attempt did not use up the key
    assert [i["sku"] for i in order["items"]] == ["DRESS-S"]
    assert (await shop.stock("S"), await shop.stock("M")) == (4, 0)


async def test_orders_move_from_pending_to_paid_to_fulfilled_or_are_cancelled(shop: Shop, clock: SettableClock) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    host = shop.room.host.headers
    leas = await shop.buy(lea, "lea-1")

    await refused(await shop.move(leas["id"], "paid", host), 403, "this needs the manager role")
    await refused(await shop.move(leas["id"], "paid", lea), 403, "guests cannot do this")
    await refused(
        await shop.move(leas["id"], "fulfilled"), 409, "the order is pending_payment: it cannot become fulfilled"
    )
    await refused(await shop.move(leas["id"], "shipped"), 422, "status")
    clock.advance(minutes=5)
    paid = await (await shop.move(leas["id"], "paid")).json()
    assert (paid["status"], paid["paid_at"]) == ("paid", "2026-09-20T10:05:00Z")
    clock.advance(hours=2)  # within the staff sign-in
    fulfilled = await (await shop.move(leas["id"], "fulfilled")).json()
    assert (fulfilled["status"], fulfilled["paid_at"], fulfilled["fulfilled_at"]) == (
        "fulfilled",
        "2026-09-20T10:05:00Z",
        "2026-09-20T12:05:00Z",
    )
    await refused(await shop.move(leas["id"], "cancelled"), 409, "the order is fulfilled: it cannot become cancelled")
    await refused(await shop.move(leas["id"], "paid"), 409, "the order is fulfilled: it cannot become paid")

    await shop.add(tom, "M", 2, live=False)
    toms = await shop.placed(tom, "tom-1", email="tom@example.com")
    assert await shop.stock("M") == 1
    cancelled = await (await shop.move(toms["id"], "cancelled")).json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] == "2026-09-20T12:05:00Z"
    assert await shop.stock("M") == 3  # back on sale
    await refused(await shop.move(toms["id"], "paid"), 409, "the order is cancelled: it cannot become paid")
    assert await shop.stock("M") == 3

    assert [o["id"] for o in await shop.orders()] == [toms["id"], leas["id"]]  # newest first
    assert [o["id"] for o in await shop.orders("?status=cancelled")] == [toms["id"]]
    assert await shop.order_seen(tom, toms["id"]) == cancelled


async def test_an_order_is_seen_by_its_buyer_and_the_brands_staff_only(shop: Shop) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    order = await shop.buy(lea, "lea-1")
    path = f"/api/v1/orders/{order['id']}"
    for headers in (lea, shop.room.manager.headers, shop.room.host.headers, shop.room.moderator.headers):
        response = await shop.client.get(path, headers=headers)
        assert response.status == 200 and (await response.json())["id"] == order["id"]
    rival = await shop.rival()
    for headers in (tom, rival.manager.headers):
        await refused(await shop.client.get(path, headers=headers), 404, f"no order {order['id']}")
    # Not even its existence is given away to another brand's staff.
    await refused(await shop.move(order["id"], "paid", rival.manager.headers), 404, f"no order {order['id']}")
    await refused(await shop.client.get(path), 401, "sign in first")

    orders = "/api/v1/brands/acme/orders"
    for headers, status, reason in [
        (shop.room.host.headers, 403, "this needs the manager role; you are host"),
        (shop.room.moderator.headers, 403, "this needs the manager role; you are moderator"),
        (lea, 403, "guests cannot do this"),
        (rival.manager.headers, 403, "you have no role in this brand"),
        ({}, 401, "sign in first"),
    ]:
        await refused(await shop.client.get(orders, headers=headers), status, reason)
    assert [o["id"] for o in await shop.orders()] == [order["id"]]


async def test_the_same_key_sent_twice_at_once_gives_one_order(shop: Shop) -> None:
    lea = await shop.guest()
    await shop.add(lea, "S", 2)
    responses = await asyncio.gather(*(shop.order(lea, "double-tap") for _ in range(5)))
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201]
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert len(await shop.orders()) == 1 and await shop.stock("S") == 3


async def test_a_buyer_sending_too_many_orders_is_slowed_down_alone(shop: Shop) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    for n in range(10):
        await refused(await shop.order(lea, f"lea-{n}"), 409, "your cart is empty")
    await shop.add(lea, "S")
    await refused(await shop.order(lea, "lea-10"), 429, "too many orders")
    assert (await shop.cart(lea))["item_count"] == 1  # nothing was taken from the cart
    assert (await shop.buy(tom, "tom-1"))["status"] == "pending_payment"
