"""Buying over HTTP: the viewer's cart, the quote, the order (with its Idempotency-Key), an order moved
on, and the brand's shop confirming a payment. The brand's list of orders is in routes/orders.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.exc import IntegrityError

from shopcast.accounts import service as accounts
from shopcast.catalog import abandoned, cart, orders, sales
from shopcast.catalog.schemas import (
    CartAdd,
    CartChange,
    CartOut,
    CheckoutEmailIn,
    CheckoutIn,
    EpisodeSales,
    OrderOut,
    OrderStatusIn,
    QuoteIn,
    ShopPaymentIn,
    Totals,
)
from shopcast.core.errors import Phrase
from shopcast.core.ratelimit import enforce
from shopcast.core.security import signed_in
from shopcast.web import language
from shopcast.web.api import Api, Call, Raw

api = Api()
CART_CHANGES_PER_MINUTE = 60  # per viewer: a person taps a few times a minute, a script far more
ORDERS_PER_MINUTE = 10


# What each limit counts, in the 429's words.
_COUNTED = {"cart changes": Phrase("errors.limit.cart_changes"), "orders": Phrase("errors.limit.orders")}


async def _limit(call: Call, what: str, limit: int) -> None:
    actor = signed_in(call.actor)
    key = f"{what}:{actor.kind}:{actor.id}"
    await enforce(call.resources.limiter, key, limit=limit, window_seconds=60, what=_COUNTED[what])


def _hold(call: Call) -> int:
    return call.resources.settings.cart_hold_minutes


async def _change(call: Call, brand_slug: str, item_id: uuid.UUID, quantity: int) -> CartOut:
    await _limit(call, "cart changes", CART_CHANGES_PER_MINUTE)
    brand = await accounts.get_brand(call.session, slug=brand_slug)
    return await cart.change(
        call.session,
        actor=call.actor,
        brand_id=brand.id,
        item_id=item_id,
        quantity=quantity,
        now=call.now(),
        bus=call.resources.bus,
        hold_minutes=_hold(call),
    )


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/cart",
    summary="The viewer's cart in the brand, priced by the server, with its holds",
    tag="shop",
    response=CartOut,
    access="signed-in",
)
async def get_cart(call: Call, brand_slug: str) -> CartOut:
    return await cart.get_cart(
        call.session,
        actor=call.actor,
        brand_slug=brand_slug,
        now=call.now(),
        bus=call.resources.bus,
        hold_minutes=_hold(call),
    )


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/cart/items",
    summary="Add a variant to the cart; with the live `episode_id` its units are held for the viewer",
    tag="shop",
    response=CartOut,
    status=201,
    access="signed-in",
    errors=(409, 429),
)
async def add_to_cart(call: Call, brand_slug: str, body: CartAdd) -> CartOut:
    await _limit(call, "cart changes", CART_CHANGES_PER_MINUTE)
    return await cart.add(
        call.session,
        actor=call.actor,
        brand=brand_slug,
        data=body,
        now=call.now(),
        bus=call.resources.bus,
        facts=call.resources.facts,
        hold_minutes=_hold(call),
    )


@api.route(
    "PATCH",
    "/api/v1/brands/{brand_slug}/cart/items/{item_id}",
    summary="Change the quantity of a cart line",
    tag="shop",
    response=CartOut,
    access="signed-in",
    errors=(409, 429),
)
async def change_cart_item(call: Call, brand_slug: str, item_id: uuid.UUID, body: CartChange) -> CartOut:
    return await _change(call, brand_slug, item_id, body.quantity)


@api.route(
    "DELETE",
    "/api/v1/brands/{brand_slug}/cart/items/{item_id}",
    summary="Remove a cart line (its held units go back on sale)",
    tag="shop",
    response=CartOut,
    access="signed-in",
    errors=(429,),
)
async def remove_cart_item(call: Call, brand_slug: str, item_id: uuid.UUID) -> CartOut:
    return await _change(call, brand_slug, item_id, 0)


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/checkout/quote",
    summary="The cart's full price with a shipping choice: items, shipping, tax, total",
    tag="shop",
    response=Totals,
    access="signed-in",
)
async def quote(call: Call, brand_slug: str, body: QuoteIn) -> Totals:
    return await orders.quote(
        call.session,
        actor=call.actor,
        brand_slug=brand_slug,
        data=body,
        now=call.now(),
        bus=call.resources.bus,
        hold_minutes=_hold(call),
    )


@api.route(
    "PUT",
    "/api/v1/brands/{brand_slug}/cart/email",
    summary="The email typed at checkout before ordering: the cart's one follow-up goes there if it is left",
    tag="shop",
    status=204,
    access="signed-in",
    errors=(429,),
)
async def checkout_email(call: Call, brand_slug: str, body: CheckoutEmailIn) -> None:
    await _limit(call, "cart changes", CART_CHANGES_PER_MINUTE)
    await abandoned.remember_email(
        call.session,
        actor=call.actor,
        brand_slug=brand_slug,
        email=str(body.email),
        language=language.chosen(call.request),
        now=call.now(),
    )


def _order_response(order: OrderOut, *, status: int) -> Raw:
    headers = {"Location": f"/api/v1/orders/{order.id}"}
    if status == 200:
        headers["Idempotent-Replayed"] = "true"
    return Raw(order.model_dump_json().encode(), "application/json", headers=headers, status=status)


class OrderHeaders(BaseModel):
    idempotency_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        alias="Idempotency-Key",
        description="A new key per order, e.g. a UUID (up to 200 characters): "
        "a retried request with the same key gets the same order instead of a second one",
    )


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/orders",
    summary="Place the order for the cart (the same Idempotency-Key again: the same order)",
    tag="shop",
    response=OrderOut,
    status=201,
    access="signed-in",
    errors=(409, 429),
    also={200: "The order placed before with this Idempotency-Key (header `Idempotent-Replayed: true`)."},
)
async def place_order(call: Call, brand_slug: str, headers: OrderHeaders, body: CheckoutIn) -> Raw:
    key = headers.idempotency_key
    # Counted before anything else, replays included: a shopper retrying one order is far below it.
    await _limit(call, "orders", ORDERS_PER_MINUTE)
    database, now, bus = call.resources.database, call.now(), call.resources.bus
    fields = {"actor": call.actor, "brand_slug": brand_slug, "key": key, "data": body, "now": now}
    # The page's language (its script sends it as Accept-Language): the buyer's emails are written in it.
    buyer_language = language.chosen(call.request)
    try:
        async with database.transaction() as session:
            placed, replayed = await orders.place_order(session, bus=bus, language=buyer_language, **fields)
    except IntegrityError:
        # The same key arrived twice at once: the other request placed the order.
        async with database.transaction() as session:
            found = await orders.replay(session, **fields)
        if found is None:
            raise
        placed, replayed = found, True
    return _order_response(placed, status=200 if replayed else 201)


@api.route(
    "GET",
    "/api/v1/orders/{order_id}",
    summary="An order (its buyer, or the brand's staff)",
    tag="shop",
    response=OrderOut,
    access="signed-in",
)
async def get_order(call: Call, order_id: uuid.UUID) -> OrderOut:
    return await orders.get_order(call.session, actor=call.actor, order_id=order_id, now=call.now())


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/sales",
    summary="What the episode has sold so far: orders, units, revenue (the brand's staff)",
    tag="shop",
    response=EpisodeSales,
    access="signed-in",
)
async def episode_sales(call: Call, episode_id: uuid.UUID) -> EpisodeSales:
    return await sales.episode_sales(call.session, actor=call.actor, episode_id=episode_id, now=call.now())


@api.route(
    "POST",
    "/api/v1/orders/{order_id}/status",
    summary="Mark an order paid or fulfilled, or cancel it and return its stock (managers)",
    tag="shop",
    response=OrderOut,
    access="signed-in",
    errors=(409,),
)
async def set_order_status(call: Call, order_id: uuid.UUID, body: OrderStatusIn) -> OrderOut:
    return await orders.set_status(
        call.session, actor=call.actor, order_id=order_id, status=body.status, now=call.now(), bus=call.resources.bus
    )


@api.route(
    "POST",
    "/api/v1/public/brands/{brand_slug}/shop-payments",
    summary="The brand's shop confirms an order is paid (a JWT signed with the brand's shop secret)",
    tag="shop",
    response=OrderOut,
    errors=(401, 409),
)
async def confirm_shop_payment(call: Call, brand_slug: str, body: ShopPaymentIn) -> OrderOut:
    return await orders.confirm_shop_payment(
        call.session, brand_slug=brand_slug, token=body.token, now=call.now(), bus=call.resources.bus
    )
