"""Paying: at pickup or on invoice, or on the brand's own shop through a signed link it verifies
and a signed confirmation it sends back, as a brand's shop would with PyJWT."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.catalog.conftest import DELIVERY, Shop
from tests.conftest import SettableClock
from tests.problems import refused

SHOP_URL = "https://shop.example.com/checkout?lang=fr"


def confirmation(secret: str, order_id: str, clock: SettableClock, **claims: Any) -> str:
    """What the brand's shop sends once it has taken the payment."""
    body = {
        "aud": "shopcast",
        "order_id": order_id,
        "status": "paid",
        "reference": "pay_123",
        "exp": int((clock.now() + timedelta(minutes=5)).timestamp()),
        **claims,
    }
    return jwt.encode(body, secret, algorithm="HS256")


async def confirm(shop: Shop, token: str, brand: str = "acme") -> Any:
    return await shop.client.post(f"/api/v1/public/brands/{brand}/shop-payments", json={"token": token})


async def payments_offered(shop: Shop) -> list[str]:
    return (await (await shop.client.get("/api/v1/public/brands/acme/shipping")).json())["payments"]


async def test_pay_later_tells_the_buyer_how_they_will_pay(shop: Shop) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    pickup = await shop.buy(lea, "lea-1")
    assert pickup["payment"] == {
        "provider": "pay_later",
        "redirect_url": None,
        "instructions": "Pay when you collect your order at Paris Marais.",
    }
    delivery = await shop.buy(tom, "tom-1", "M", email="tom@example.com", shipping=DELIVERY, payment="pay_later")
    assert delivery["payment"]["instructions"] == (
        f"An invoice for order {delivery['number']} will be sent to tom@example.com."
    )
    assert delivery["payment"]["redirect_url"] is None and delivery["status"] == "pending_payment"


async def test_the_brands_shop_is_offered_only_once_its_address_is_set(shop: Shop) -> None:
    lea = await shop.guest()
    await shop.add(lea, "S")
    assert await payments_offered(shop) == ["pay_later"]
    response = await shop.order(lea, "lea-1", payment="brand_shop")
    await refused(response, 422, "payment: 'brand_shop' is not offered by this brand")
    await refused(await shop.order(lea, "lea-1", payment="card"), 422, "payment")
    assert await shop.orders() == [] and (await shop.cart(lea))["item_count"] == 1

    commerce = await shop.sell(shop_checkout_url=SHOP_URL)
    assert commerce["shop_checkout_url"] == SHOP_URL and len(commerce["shop_secret"]) >= 32
    assert await payments_offered(shop) == ["pay_later", "brand_shop"]
    order = await shop.placed(lea, "lea-1", payment="brand_shop")  # the refusals did not use up the key
    assert order["payment"]["provider"] == "brand_shop"
    bad = {"shop_checkout_url": "shop.example.com/checkout"}
    response = await shop.client.put("/api/v1/brands/acme/commerce", json=bad, headers=shop.room.manager.headers)
    await refused(response, 422, "shop_checkout_url: must be an http(s):// address")
    # The shop secret is for the brand's managers only.
    response = await shop.client.get("/api/v1/brands/acme/commerce", headers=shop.room.host.headers)
    await refused(response, 403, "this needs the manager role")


async def test_the_shop_verifies_the_cart_it_is_handed(shop: Shop, clock: SettableClock) -> None:
    secret = (await shop.sell(shop_checkout_url=SHOP_URL))["shop_secret"]
    lea = await shop.guest()
    await shop.add(lea, "S", 2)
    order = await shop.buy(lea, "lea-1", "M", shipping=DELIVERY, payment="brand_shop")
    assert order["payment"]["instructions"] == "Finish paying on the brand's shop."

    link = urlsplit(order["payment"]["redirect_url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == "https://shop.example.com/checkout"
    query = parse_qs(link.query)
    assert query["lang"] == ["fr"] and len(query["cart"]) == 1
    token = query["cart"][0]
    # The app's clock, not the wall clock, is the time in tests: the shop's expiry check is made on it.
    cart = jwt.decode(token, secret, algorithms=["HS256"], audience="brand-shop", options={"verify_exp": False})
    assert cart["exp"] == int((clock.now() + timedelta(hours=24)).timestamp())
    assert (cart["sub"], cart["order_number"], cart["currency"]) == (order["id"], order["number"], "EUR")
    assert (cart["total"], cart["shipping"]) == (order["totals"]["total"], 0) == (14970, 0)
    assert (cart["email"], cart["name"]) == ("lea@example.com", "Léa Martin")
    assert sorted(cart["items"], key=lambda i: i["sku"]) == [
        {"sku": "DRESS-M", "title": "Linen dress", "quantity": 1, "line_total": 4990},
        {"sku": "DRESS-S", "title": "Linen dress", "quantity": 2, "line_total": 9980},
    ]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "not-the-shop-secret-" * 2, algorithms=["HS256"], audience="brand-shop")
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, secret, algorithms=["HS256"], audience="shopcast", options={"verify_exp": False})


async def test_the_shop_confirms_the_payment_once(shop: Shop, clock: SettableClock) -> None:
    secret = (await shop.sell(shop_checkout_url=SHOP_URL))["shop_secret"]
    lea = await shop.guest()
    order = await shop.buy(lea, "lea-1", payment="brand_shop")

    rival = await shop.rival()
    response = await shop.client.put(
        f"/api/v1/brands/{rival.slug}/commerce", json={"shop_checkout_url": SHOP_URL}, headers=rival.manager.headers
    )
    rival_secret = (await response.json())["shop_secret"]
    assert rival_secret != secret
    for token, status, reason in [
        (confirmation(rival_secret, order["id"], clock), 401, "the shop's confirmation is not valid"),
        (confirmation(secret, order["id"], clock, aud="brand-shop"), 401, "not valid: Audience doesn't match"),
        (confirmation(secret, order["id"], clock, exp=int(clock.now().timestamp())), 401, "has expired"),
        (confirmation(secret, order["id"], clock, status="refunded"), 422, "status: the shop can only confirm"),
        (confirmation(secret, "SC-123", clock), 422, "order_id: not an order id"),
        (confirmation(secret, str(uuid.uuid4()), clock), 404, "no order"),
        ("not.a.jwt", 401, "not valid"),
    ]:
        await refused(await confirm(shop, token), status, reason)
    # A brand's shop confirms only its own brand's orders.
    await refused(await confirm(shop, confirmation(rival_secret, order["id"], clock), "globex"), 404, "in this brand")

    late = confirmation(secret, order["id"], clock)
    clock.advance(minutes=6)
    await refused(await confirm(shop, late), 401, "the shop's confirmation has expired")
    assert (await shop.orders())[0]["status"] == "pending_payment"

    response = await confirm(shop, confirmation(secret, order["id"], clock))
    assert response.status == 200, await response.text()
    paid = await response.json()
    assert (paid["status"], paid["paid_at"]) == ("paid", "2026-09-20T10:06:00Z")
    assert paid["payment"] == {
        "provider": "brand_shop",
        "redirect_url": None,
        "instructions": "Paid on the brand's shop.",
    }
    clock.advance(minutes=1)
    again = await confirm(shop, confirmation(secret, order["id"], clock, reference="pay_124"))
    assert again.status == 200 and await again.json() == paid  # still paid, at the first time
    assert [o["id"] for o in await shop.orders("?status=paid")] == [order["id"]]
    assert (await shop.order_seen(lea, order["id"]))["status"] == "paid"


async def test_the_shop_cannot_pay_an_order_that_is_not_its_own_to_take(shop: Shop, clock: SettableClock) -> None:
    secret = (await shop.sell(shop_checkout_url=SHOP_URL))["shop_secret"]
    lea = await shop.guest()
    at_pickup = await shop.buy(lea, "lea-1")
    await refused(
        await confirm(shop, confirmation(secret, at_pickup["id"], clock)), 403, "not paid on the brand's shop"
    )
    on_shop = await shop.buy(lea, "lea-2", "M", payment="brand_shop")
    assert (await shop.move(on_shop["id"], "cancelled")).status == 200
    await refused(await confirm(shop, confirmation(secret, on_shop["id"], clock)), 409, "the order was cancelled")
    assert {o["status"] for o in await shop.orders()} == {"pending_payment", "cancelled"}
    assert (await shop.order_seen(lea, on_shop["id"]))["payment"][
        "instructions"
    ] == "The order was cancelled: nothing to pay."


async def test_the_instructions_follow_the_order_once_it_is_paid_or_cancelled(shop: Shop) -> None:
    lea = await shop.guest()
    paid = await shop.buy(lea, "lea-1")
    cancelled = await shop.buy(lea, "lea-2", "M", shipping=DELIVERY)
    for order, status, instructions in [
        (paid, "paid", "Paid."),
        (cancelled, "cancelled", "The order was cancelled: nothing to pay."),
    ]:
        response = await shop.move(order["id"], status)
        assert (await response.json())["payment"]["instructions"] == instructions
        assert (await shop.order_seen(lea, order["id"]))["payment"]["instructions"] == instructions

    await shop.sell(shop_checkout_url=SHOP_URL)
    on_shop = await shop.buy(lea, "lea-3", payment="brand_shop")
    await shop.sell(shop_checkout_url=None)  # the brand closes its shop before the buyer paid there
    assert (await shop.order_seen(lea, on_shop["id"]))["payment"] == {
        "provider": "brand_shop",
        "redirect_url": None,
        "instructions": "The brand will tell you how to pay.",
    }
