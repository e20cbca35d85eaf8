"""Checkout and orders: the full price before paying, one order per Idempotency-Key, the order's life.

Placing an order claims each cart line with a conditional DELETE (the line exactly as read),
keeps its held units and takes the rest with `stock.take`; if any unit is missing the whole
transaction rolls back, so a buyer who is too late gets a 409 and nothing is half-written.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

import orjson
from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.catalog import cart as carts
from shopcast.catalog import order_access as access
from shopcast.catalog import order_history as history
from shopcast.catalog import stock
from shopcast.catalog.commerce import pickup_store, settings_of, totals
from shopcast.catalog.models import CartItem, CommerceSettings, Order, OrderLine, Product, Variant
from shopcast.catalog.order_emails import tell_buyer
from shopcast.catalog.payments import PROVIDERS, provider, read_shop_confirmation
from shopcast.catalog.products import variant_label, variant_price
from shopcast.catalog.schemas import (
    Address,
    CheckoutIn,
    Delivery,
    OrderLineOut,
    OrderOut,
    OrderStatus,
    PickupStore,
    QuoteIn,
    ShippingOut,
    Totals,
)
from shopcast.core.bus import Bus
from shopcast.core.catalogues import languages
from shopcast.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Phrase
from shopcast.core.ids import new_id
from shopcast.core.security import Principal, authorize, signed_in
from shopcast.live.service import STAFF
from shopcast.webhooks import service as webhooks
from shopcast.webhooks.events import ORDER_CREATED, ORDER_EVENT_FOR_STATUS

NEXT_STATUSES: dict[str, set[str]] = {
    "pending_payment": {"paid", "cancelled"},
    "paid": {"fulfilled", "cancelled"},
    "fulfilled": set(),
    "cancelled": set(),
}
_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on the phone


def new_number() -> str:
    return "SC-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))


def request_hash(data: CheckoutIn) -> str:
    """What the order asked for, to tell a replay from a different order under the same key."""
    return hashlib.sha256(orjson.dumps(data.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


async def order_out(
    session: AsyncSession,
    order: Order,
    *,
    now: datetime,
    lines: list[OrderLine] | None = None,
    settings: CommerceSettings | None = None,
) -> OrderOut:
    """The order as its buyer and the brand see it (given its lines and settings, nothing is read)."""
    if lines is None:
        lines = list(
            await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position))
        )
    if settings is None:
        settings = await settings_of(session, order.brand_id, now=now)
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status,  # type: ignore[arg-type]
        email=order.email,
        name=order.name,
        items=[OrderLineOut.model_validate(line, from_attributes=True) for line in lines],
        totals=Totals(
            items=order.items_total,
            shipping=order.shipping_total,
            tax=order.tax_total,
            tax_included=order.tax_included,
            total=order.total,
            currency=order.currency,
        ),
        shipping=ShippingOut(
            method=order.shipping_method,  # type: ignore[arg-type]
            address=Address.model_validate(order.shipping_address) if order.shipping_address else None,
            store=PickupStore.model_validate(order.pickup_store) if order.pickup_store else None,
        ),
        payment=PROVIDERS[order.payment_provider].start(order, lines, settings, now=now),
        created_at=order.created_at,
        paid_at=order.paid_at,
        fulfilled_at=order.fulfilled_at,
        cancelled_at=order.cancelled_at,
    )


# --- checkout --------------------------------------------------------------------------------


async def quote(
    session: AsyncSession,
    *,
    actor: Principal | None,
    brand_slug: str,
    data: QuoteIn,
    now: datetime,
    bus: Bus,
    hold_minutes: int,
) -> Totals:
    """The full price of the cart with this shipping choice, before paying."""
    shown = await carts.get_cart(
        session, actor=actor, brand_slug=brand_slug, now=now, bus=bus, hold_minutes=hold_minutes
    )
    return totals(await settings_of(session, shown.brand_id, now=now), items=shown.subtotal, shipping=data.shipping)


def _by_key(who: carts.Shopper, key: str):  # type: ignore[no-untyped-def]
    return and_(Order.buyer_kind == who.kind, Order.buyer_id == who.id, Order.idempotency_key == key)


async def replay(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, key: str, data: CheckoutIn, now: datetime
) -> OrderOut | None:
    """The order already placed with this Idempotency-Key, if any (the same request only)."""
    who = carts.shopper(actor)
    order = await session.scalar(
        select(Order).join(Brand, Brand.id == Order.brand_id).where(Brand.slug == brand_slug, _by_key(who, key))
    )
    return None if order is None else await _replayed(session, order, data, now=now)


async def _replayed(session: AsyncSession, order: Order, data: CheckoutIn, *, now: datetime) -> OrderOut:
    if order.request_hash != request_hash(data):
        raise InvalidInput("errors.order.key_reused")
    return await order_out(session, order, now=now)


def _shipping(found: CommerceSettings, data: CheckoutIn) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """The order's (address, pickup store) for the chosen shipping."""
    if isinstance(data.shipping, Delivery):
        if data.shipping.address is None:
            raise InvalidInput("errors.order.no_address")
        return data.shipping.address.model_dump(), None
    return None, pickup_store(found, data.shipping.store_id).model_dump()


_BRAND_FOR_CHECKOUT = (
    select(Brand, CommerceSettings, Order)
    .outerjoin(CommerceSettings, CommerceSettings.brand_id == Brand.id)
    .outerjoin(
        Order,
        and_(
            Order.brand_id == Brand.id,
            Order.buyer_kind == bindparam("buyer_kind"),
            Order.buyer_id == bindparam("buyer_id"),
            Order.idempotency_key == bindparam("key"),
        ),
    )
    .where(Brand.slug == bindparam("slug"))
)


async def _brand_for_checkout(
    session: AsyncSession, brand_slug: str, who: carts.Shopper, key: str, *, now: datetime
) -> tuple[Brand, CommerceSettings, Order | None]:
    """The brand, how it sells, and the order already placed with this key: one reading."""
    asked = {"buyer_kind": who.kind, "buyer_id": who.id, "key": key, "slug": brand_slug}
    row = (await session.execute(_BRAND_FOR_CHECKOUT, asked)).first()
    if row is None:
        raise NotFound("errors.brand.none", slug=brand_slug)
    brand, found, order = row
    return brand, found if found is not None else await settings_of(session, brand.id, now=now), order


async def place_order(
    session: AsyncSession,
    *,
    actor: Principal | None,
    brand_slug: str,
    key: str,
    data: CheckoutIn,
    now: datetime,
    bus: Bus,
    language: str | None = None,
) -> tuple[OrderOut, bool]:
    """Turn the cart into an order, or give the order already placed with this key (True then).

    The order is written before its cart lines are claimed: a second request with the same key
    waits on the key's unique index and then fails (IntegrityError; its caller reads the order
    with `replay`). Its confirmation email is queued in the same transaction (in `language`, the
    page's, else the brand's default). The stock missing from holds is taken last, right before the
    commit."""
    buyer = signed_in(actor)
    who = carts.shopper(buyer)
    brand, found, placed = await _brand_for_checkout(session, brand_slug, who, key, now=now)
    if placed is not None:
        return await _replayed(session, placed, data, now=now), True
    pay = provider(data.payment, found)
    address, store = _shipping(found, data)
    rows = await carts.my_lines(session, brand.id, who)
    if not rows:
        # The request with this key may have emptied the cart since this one looked for its order.
        found = await replay(session, actor=actor, brand_slug=brand_slug, key=key, data=data, now=now)
        if found is not None:
            return found, True
        raise Conflict("errors.cart.empty")
    order = Order(
        id=new_id(),
        number=new_number(),
        brand_id=brand.id,
        buyer_kind=who.kind,
        buyer_id=who.id,
        idempotency_key=key,
        request_hash=request_hash(data),
        email=str(data.email),
        name=data.name,
        shipping_method=data.shipping.method,
        shipping_address=address,
        pickup_store=store,
        currency=found.currency,
        tax_included=found.tax_included,
        status="pending_payment",
        language=language if language in languages() else brand.default_language,
        payment_provider=pay.name,
        payment_reference=None,
        created_at=now,
        paid_at=None,
        fulfilled_at=None,
        cancelled_at=None,
    )
    lines: list[OrderLine] = []
    to_take: list[tuple[Variant, Product, CartItem, int]] = []
    for position, (line, variant, product) in enumerate(rows):
        if product.archived:
            raise Conflict("errors.cart.remove_unsold", title=product.title)
        regular = variant_price(product, variant)
        deal_units = line.deal_quantity if line.deal_price is not None else 0
        lines.append(
            OrderLine(
                id=new_id(),
                order_id=order.id,
                position=position,
                product_id=product.id,
                variant_id=variant.id,
                episode_id=line.episode_id,
                sku=variant.sku,
                title=product.title,
                label=variant_label(variant.options),
                quantity=line.quantity,
                unit_price=regular,
                deal_quantity=deal_units,
                deal_price=line.deal_price if deal_units else None,
                line_total=carts.line_total(line, regular),
            )
        )
        if unheld := line.quantity - line.held_quantity:
            to_take.append((variant, product, line, unheld))
    priced = totals(found, items=sum(line.line_total for line in lines), shipping=data.shipping)
    order.items_total, order.shipping_total, order.tax_total = priced.items, priced.shipping, priced.tax
    order.total = priced.total
    await session.execute(_INSERT_ORDER, [_columns(order)])
    for line, _, _ in rows:
        if not await carts.claim(session, line):
            raise Conflict("errors.cart.changed")
    await session.execute(_INSERT_LINES, [_columns(line) for line in lines])
    # The answer is made before the stock is taken: from the first take to the commit, other
    # buyers of the variant wait for its row.
    shown = await order_out(session, order, now=now, lines=lines, settings=found)
    await tell_buyer(session, shown, brand_id=brand.id, brand_name=brand.name, language=order.language, now=now)
    await webhooks.emit(session, brand_id=brand.id, event=ORDER_CREATED, data=shown, now=now, about=f"order:{order.id}")
    # In the variants' order: two buyers of the same sizes never wait for each other's rows in a circle.
    for variant, product, line, unheld in sorted(to_take, key=lambda taking: taking[0].id):
        if await stock.take(session, variant.id, unheld) is None:
            left = await stock.stock_now(session, variant.id)
            raise carts.sold_out(product, variant, left + line.held_quantity)
    stock.announce(session, bus, [variant.id for variant, _, _, _ in to_take])
    return shown, False


_INSERT_ORDER, _INSERT_LINES = insert(Order.__table__), insert(OrderLine.__table__)


def _columns(row: Order | OrderLine) -> dict[str, object]:
    """A row's values for an INSERT of its table (no unit of work for a row written once)."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


# --- orders after checkout -------------------------------------------------------------------


async def _order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("errors.order.none", order_id=order_id)
    return order


async def get_order(session: AsyncSession, *, actor: Principal | None, order_id: uuid.UUID, now: datetime) -> OrderOut:
    """An order, for its buyer or the brand's staff."""
    actor = signed_in(actor)
    order = await _order(session, order_id)
    if (order.buyer_kind, order.buyer_id) != (actor.kind, actor.id):
        if actor.is_guest or actor.roles.get(order.brand_id) is None:
            raise NotFound("errors.order.none", order_id=order_id)  # another buyer's order: not even its existence
        authorize(actor, order.brand_id, *STAFF)
    return await order_out(session, order, now=now)


def _status(status: str) -> Phrase:
    return Phrase(f"errors.order_status.{status}")


async def _move(
    session: AsyncSession, order: Order, to: OrderStatus, *, now: datetime, bus: Bus, by: history.ChangeMaker
) -> OrderOut:
    """Change the order's status (its stock back when cancelled), note who did it and tell the buyer and the
    brand's shop (webhooks), in one transaction."""
    if to not in NEXT_STATUSES[order.status]:
        raise Conflict("errors.order.cannot_become", status=_status(order.status), to=_status(to))
    order.status = to
    history.record(session, order.id, to, at=now, by=by)
    if to == "paid":
        order.paid_at = now
    elif to == "fulfilled":
        order.fulfilled_at = now
    elif to == "cancelled":
        order.cancelled_at = now
        lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
        for line in lines:
            await stock.give_back(session, line.variant_id, line.quantity)
        stock.announce(session, bus, [line.variant_id for line in lines])
    await session.flush()
    brand = await accounts.get_brand_by_id(session, brand_id=order.brand_id)
    shown = await order_out(session, order, now=now)
    await tell_buyer(session, shown, brand_id=brand.id, brand_name=brand.name, language=order.language, now=now)
    event = ORDER_EVENT_FOR_STATUS[to]
    await webhooks.emit(session, brand_id=brand.id, event=event, data=shown, now=now, about=f"order:{order.id}")
    return shown


async def set_status(
    session: AsyncSession, *, actor: Principal | None, order_id: uuid.UUID, status: OrderStatus, now: datetime, bus: Bus
) -> OrderOut:
    """Move an order on: paid, fulfilled, or cancelled with its stock returned (managers)."""
    order = await access.managed_order(session, actor=actor, order_id=order_id, for_update=True)
    return await _move(session, order, status, now=now, bus=bus, by=signed_in(actor))


async def confirm_shop_payment(
    session: AsyncSession, *, brand_slug: str, token: str, now: datetime, bus: Bus
) -> OrderOut:
    """The brand's shop says an order it was handed is paid (a JWT signed with the shop secret)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    claims = read_shop_confirmation(token, await settings_of(session, brand.id, now=now), now=now)
    if claims["status"] != "paid":
        raise InvalidInput("errors.order.only_paid")
    try:
        order_id = uuid.UUID(str(claims["order_id"]))
    except ValueError:
        raise InvalidInput("errors.order.not_an_id") from None
    order = await session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None or order.brand_id != brand.id:
        raise NotFound("errors.order.none_here", order_id=order_id)
    if order.payment_provider != "brand_shop":
        raise Forbidden("errors.order.not_on_shop")
    if order.status == "cancelled":
        raise Conflict("errors.order.cancelled")
    if order.status != "pending_payment":  # a confirmation sent twice changes nothing the second time
        return await order_out(session, order, now=now)
    order.payment_reference = str(claims.get("reference", ""))[:200] or None
    return await _move(session, order, "paid", now=now, bus=bus, by="brand_shop")
