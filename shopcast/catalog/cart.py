"""One cart per viewer and brand: adding from the pin, holds during the live, and their release.

A line's `held_quantity` units were taken off stock when added during a live and stay the
viewer's until `held_until`; the rest of the line is taken at checkout, if still there. Every
change of a line that gives units back is a conditional UPDATE on the line as it was read, so
the release ticker (on any process) and the viewer never both give the same units back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog import deals, lineup, stock
from shopcast.catalog.commerce import settings_of
from shopcast.catalog.models import Cart, CartItem, Pin, Product, Variant
from shopcast.catalog.products import variant_label, variant_price
from shopcast.catalog.schemas import MAX_LINE_QUANTITY, CartAdd, CartItemOut, CartOut
from shopcast.core.bus import Bus
from shopcast.core.db import insert_ignoring_duplicates, upsert
from shopcast.core.errors import Conflict, InvalidInput, NotFound
from shopcast.core.ids import new_id
from shopcast.core.security import Principal, signed_in
from shopcast.live import service as live
from shopcast.live.lifecycle import EpisodeStatus

RETRIES = 5  # attempts at a line change that raced with the release of its hold


@dataclass(frozen=True)
class Shopper:
    """Who a cart belongs to: a guest or an account (the same cart on every device)."""

    kind: str
    id: uuid.UUID


def shopper(actor: Principal | None) -> Shopper:
    actor = signed_in(actor)
    return Shopper(actor.kind, actor.id)


async def find_cart(session: AsyncSession, brand_id: uuid.UUID, who: Shopper) -> Cart | None:
    return await session.scalar(
        select(Cart).where(Cart.brand_id == brand_id, Cart.owner_kind == who.kind, Cart.owner_id == who.id)
    )


async def cart_of(session: AsyncSession, brand_id: uuid.UUID, who: Shopper, *, now: datetime) -> Cart:
    """The shopper's cart in the brand, made on first use (two devices at once make one)."""
    found = await find_cart(session, brand_id, who)
    if found is not None:
        return found
    await session.execute(
        insert_ignoring_duplicates(session, Cart.__table__).values(
            id=new_id(), brand_id=brand_id, owner_kind=who.kind, owner_id=who.id, created_at=now, updated_at=now
        )
    )
    cart = await find_cart(session, brand_id, who)
    assert cart is not None
    return cart


def sold_out(product: Product, variant: Variant, left: int) -> Conflict:
    what = f"{product.title} ({variant_label(variant.options)})"
    if left <= 0:
        return Conflict(f"sold out: {what}", extra={"variant_id": str(variant.id), "available": 0})
    return Conflict(f"only {left} left of {what}", extra={"variant_id": str(variant.id), "available": left})


async def stock_now(session: AsyncSession, variant_id: uuid.UUID) -> int:
    return int(await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) or 0)


async def _variant_in(session: AsyncSession, brand_id: uuid.UUID, variant_id: uuid.UUID) -> tuple[Product, Variant]:
    variant = await session.get(Variant, variant_id)
    product = await session.get(Product, variant.product_id) if variant is not None else None
    if variant is None or product is None or product.brand_id != brand_id:
        raise NotFound(f"no variant {variant_id} in this brand")
    if product.archived:
        raise Conflict(f"{product.title} is no longer for sale")
    return product, variant


async def _live_deal(session: AsyncSession, episode_id: uuid.UUID, product_id: uuid.UUID, now: datetime) -> Pin | None:
    """The pin of this product now on screen with a deal running, if any."""
    pin = await lineup.current(session, episode_id)
    if pin is None or pin.product_id != product_id or not deals.is_active(pin, now):
        return None
    return pin


async def add(
    session: AsyncSession,
    *,
    actor: Principal | None,
    brand_id: uuid.UUID,
    data: CartAdd,
    now: datetime,
    bus: Bus,
    hold_minutes: int,
) -> CartOut:
    """Put units in the cart. During the live they are taken off stock and held for the viewer
    (at the deal price while the pinned product's flash deal has units); otherwise they are
    checked now and taken at checkout."""
    who = shopper(actor)
    product, variant = await _variant_in(session, brand_id, data.variant_id)
    episode = await live.load_episode(session, data.episode_id) if data.episode_id is not None else None
    if episode is not None and episode.brand_id != brand_id:
        raise NotFound(f"no episode {data.episode_id} in this brand")
    cart = await cart_of(session, brand_id, who, now=now)
    line = await session.scalar(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant.id))
    if (line.quantity if line else 0) + data.quantity > MAX_LINE_QUANTITY:
        raise InvalidInput(f"quantity: at most {MAX_LINE_QUANTITY} of one item per cart")
    held = deal_units = 0
    deal: Pin | None = None
    if episode is not None and episode.status == EpisodeStatus.LIVE:
        if await stock.take(session, variant.id, data.quantity) is None:
            raise sold_out(product, variant, await stock_now(session, variant.id))
        held = data.quantity
        deal = await _live_deal(session, episode.id, product.id, now)
        if deal is not None and (line is None or line.deal_pin_id in (None, deal.id)):
            if await deals.claim(session, pin_id=deal.id, quantity=data.quantity, now=now, bus=bus):
                deal_units = data.quantity
        await stock.announce(session, bus, [variant.id])
    else:
        unheld_wanted = (line.quantity - line.held_quantity if line else 0) + data.quantity
        left = await stock_now(session, variant.id)
        if unheld_wanted > left:
            raise sold_out(product, variant, left + (line.held_quantity if line else 0))
    insert = upsert(session, CartItem.__table__).values(
        id=new_id(),
        cart_id=cart.id,
        variant_id=variant.id,
        episode_id=episode.id if episode is not None else None,
        quantity=data.quantity,
        held_quantity=held,
        held_until=now + timedelta(minutes=hold_minutes) if held else None,
        deal_pin_id=deal.id if deal_units else None,
        deal_quantity=deal_units,
        deal_price=deal.deal_price if deal is not None and deal_units else None,
        added_at=now,
    )
    table, new = CartItem.__table__.c, insert.excluded
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.cart_id, table.variant_id],
            set_={
                "quantity": table.quantity + new.quantity,
                "held_quantity": table.held_quantity + new.held_quantity,
                # Units added later share the line's hold: adding again never extends it, or a
                # viewer could keep pieces off sale for ever, one tap every few minutes.
                "held_until": func.coalesce(table.held_until, new.held_until),
                "deal_pin_id": func.coalesce(new.deal_pin_id, table.deal_pin_id),
                "deal_quantity": table.deal_quantity + new.deal_quantity,
                "deal_price": func.coalesce(new.deal_price, table.deal_price),
                "episode_id": func.coalesce(new.episode_id, table.episode_id),
            },
        )
    )
    total = await session.scalar(
        select(CartItem.quantity).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant.id)
    )
    if (total or 0) > MAX_LINE_QUANTITY:  # a second tap raced this one past the limit
        raise InvalidInput(f"quantity: at most {MAX_LINE_QUANTITY} of one item per cart")
    cart.updated_at = now
    return await cart_out(session, cart, now=now, bus=bus, hold_minutes=hold_minutes)


async def _line_of(session: AsyncSession, brand_id: uuid.UUID, who: Shopper, item_id: uuid.UUID) -> CartItem:
    line = await session.scalar(
        select(CartItem)
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(CartItem.id == item_id, Cart.brand_id == brand_id, Cart.owner_kind == who.kind, Cart.owner_id == who.id)
        .execution_options(populate_existing=True)
    )
    if line is None:
        raise NotFound(f"no item {item_id} in your cart")
    return line


async def _give_back(
    session: AsyncSession, line: CartItem, *, held: int, deal_units: int, now: datetime, bus: Bus
) -> None:
    await stock.give_back(session, line.variant_id, held)
    if deal_units and line.deal_pin_id is not None:
        await deals.give_back(session, pin_id=line.deal_pin_id, quantity=deal_units, now=now, bus=bus)
    if held:
        await stock.announce(session, bus, [line.variant_id])


def as_read(line: CartItem):  # type: ignore[no-untyped-def]
    """The line exactly as it was read: a change applies only if nobody changed it since."""
    return and_(
        CartItem.id == line.id,
        CartItem.quantity == line.quantity,
        CartItem.held_quantity == line.held_quantity,
        CartItem.deal_quantity == line.deal_quantity,
    )


async def change(
    session: AsyncSession,
    *,
    actor: Principal | None,
    brand_id: uuid.UUID,
    item_id: uuid.UUID,
    quantity: int,
    now: datetime,
    bus: Bus,
    hold_minutes: int,
) -> CartOut:
    """Set a line's quantity (0 removes it). Fewer units give back unheld ones first, then held
    ones at the regular price, then deal ones; more units are held while the line's hold runs."""
    who = shopper(actor)
    for _ in range(RETRIES):
        line = await _line_of(session, brand_id, who, item_id)
        if await _change_line(session, line, quantity, brand_id=brand_id, now=now, bus=bus):
            break
    else:
        raise Conflict("your cart changed meanwhile: look at it again")
    cart = await session.get(Cart, line.cart_id)
    assert cart is not None
    cart.updated_at = now
    return await cart_out(session, cart, now=now, bus=bus, hold_minutes=hold_minutes)


async def _change_line(
    session: AsyncSession,
    line: CartItem,
    quantity: int,
    *,
    brand_id: uuid.UUID,
    now: datetime,
    bus: Bus,
) -> bool:
    """One attempt; False if the line changed under it (it changed nothing then)."""
    if quantity == line.quantity:
        return True
    if quantity > line.quantity:
        more = quantity - line.quantity
        product, variant = await _variant_in(session, brand_id, line.variant_id)
        holding = line.held_quantity > 0 and line.held_until is not None and line.held_until > now
        if holding:
            if await stock.take(session, variant.id, more) is None:
                raise sold_out(product, variant, await stock_now(session, variant.id) + line.held_quantity)
        elif quantity - line.held_quantity > (left := await stock_now(session, variant.id)):
            raise sold_out(product, variant, left + line.held_quantity)
        changed = await session.execute(
            update(CartItem)
            .where(as_read(line))
            .values(
                quantity=quantity,
                held_quantity=CartItem.held_quantity + (more if holding else 0),
            )
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:
            if holding:
                await stock.give_back(session, variant.id, more)
            return False
        if holding:
            await stock.announce(session, bus, [variant.id])
        return True
    fewer = line.quantity - quantity
    unheld = line.quantity - line.held_quantity
    from_unheld = min(fewer, unheld)
    from_held = fewer - from_unheld
    regular_held = line.held_quantity - line.deal_quantity
    from_deal = max(0, from_held - regular_held)
    if quantity == 0:
        changed = await session.execute(
            delete(CartItem).where(as_read(line)).execution_options(synchronize_session=False)
        )
    else:
        changed = await session.execute(
            update(CartItem)
            .where(as_read(line))
            .values(
                quantity=quantity,
                held_quantity=line.held_quantity - from_held,
                deal_quantity=line.deal_quantity - from_deal,
            )
            .execution_options(synchronize_session=False)
        )
    if changed.rowcount != 1:
        return False
    await _give_back(session, line, held=from_held, deal_units=from_deal, now=now, bus=bus)
    return True


async def release_expired(
    session: AsyncSession, *, now: datetime, bus: Bus, cart_id: uuid.UUID | None = None, limit: int = 500
) -> int:
    """Give back the units of holds past their time (all carts, or one); how many lines released.
    The lines stay in their carts, unheld: the viewer can still buy if stock is left."""
    query = select(CartItem).where(CartItem.held_quantity > 0, CartItem.held_until <= now)
    if cart_id is not None:
        query = query.where(CartItem.cart_id == cart_id)
    released = 0
    lines = list(await session.scalars(query.limit(limit).execution_options(populate_existing=True)))
    for line in lines:
        changed = await session.execute(
            update(CartItem)
            .where(as_read(line), CartItem.held_until == line.held_until)
            .values(held_quantity=0, deal_quantity=0, held_until=None, deal_pin_id=None, deal_price=None)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:
            released += 1
            await _give_back(session, line, held=line.held_quantity, deal_units=line.deal_quantity, now=now, bus=bus)
    return released


# --- reading ---------------------------------------------------------------------------------


async def lines(session: AsyncSession, cart_id: uuid.UUID) -> list[tuple[CartItem, Variant, Product]]:
    """The cart's lines with what they are, in the order added, fresh from the database."""
    rows = await session.execute(
        select(CartItem, Variant, Product)
        .join(Variant, Variant.id == CartItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(CartItem.cart_id == cart_id)
        .order_by(CartItem.added_at, CartItem.id)
        .execution_options(populate_existing=True)
    )
    return [(line, variant, product) for line, variant, product in rows]


def line_total(line: CartItem, regular: int) -> int:
    deal_units = line.deal_quantity if line.deal_price is not None else 0
    return deal_units * (line.deal_price or 0) + (line.quantity - deal_units) * regular


async def cart_out(session: AsyncSession, cart: Cart, *, now: datetime, bus: Bus, hold_minutes: int) -> CartOut:
    """The cart as its viewer sees it, priced now by the server (expired holds released first)."""
    await release_expired(session, now=now, bus=bus, cart_id=cart.id)
    rows = await lines(session, cart.id)
    items = []
    for line, variant, product in rows:
        regular = variant_price(product, variant)
        available = 0 if product.archived else line.held_quantity + variant.stock
        problem = "sold_out" if available == 0 else "short" if available < line.quantity else None
        items.append(
            CartItemOut(
                id=line.id,
                product_id=product.id,
                variant_id=variant.id,
                title=product.title,
                label=variant_label(variant.options),
                sku=variant.sku,
                image_url=product.image_urls[0] if product.image_urls else None,
                quantity=line.quantity,
                unit_price=line.deal_price if line.deal_quantity and line.deal_price is not None else regular,
                regular_price=regular,
                deal_quantity=line.deal_quantity,
                line_total=line_total(line, regular),
                held_quantity=line.held_quantity,
                held_until=line.held_until if line.held_quantity else None,
                available=available,
                problem=problem,
            )
        )
    currency = (await settings_of(session, cart.brand_id, now=now)).currency
    return CartOut(
        id=cart.id,
        brand_id=cart.brand_id,
        currency=currency,
        items=items,
        subtotal=sum(i.line_total for i in items),
        item_count=sum(i.quantity for i in items),
        hold_minutes=hold_minutes,
    )


async def get_cart(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, now: datetime, bus: Bus, hold_minutes: int
) -> CartOut:
    brand = await accounts.get_brand(session, slug=brand_slug)
    cart = await cart_of(session, brand.id, shopper(actor), now=now)
    return await cart_out(session, cart, now=now, bus=bus, hold_minutes=hold_minutes)
