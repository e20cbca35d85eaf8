"""One cart per viewer and brand: adding from the pin, holds during the live, and their release.

A line's `held_quantity` units were taken off stock when added during a live and stay the
viewer's until `held_until`; the rest of the line is taken at checkout, if still there. Every
change of a line that gives units back is a conditional UPDATE on the line as it was read, so
the release ticker (on any process) and the viewer never both give the same units back.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Select, and_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.catalog import deals, lineup, stock
from shopcast.catalog.commerce import settings_of
from shopcast.catalog.models import Cart, CartAddition, CartItem, Pin, Product, Variant
from shopcast.catalog.products import variant_label, variant_price
from shopcast.catalog.schemas import MAX_LINE_QUANTITY, CartAdd, CartItemOut, CartOut
from shopcast.catalog.sold_out import BrandKey, SoldOutMarks, marks_in
from shopcast.core.bus import Bus
from shopcast.core.db import after_commit, dialect_of, insert_for
from shopcast.core.errors import Conflict, InvalidInput, NotFound, Phrase
from shopcast.core.facts import Facts
from shopcast.core.ids import new_id
from shopcast.core.security import Principal, signed_in
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode

RETRIES = 5  # attempts at a line change that raced with the release of its hold


@dataclass(frozen=True)
class Shopper:
    """Who a cart belongs to: a guest or an account (the same cart on every device)."""

    kind: str
    id: uuid.UUID


def shopper(actor: Principal | None) -> Shopper:
    actor = signed_in(actor)
    return Shopper(actor.kind, actor.id)


# The statements of adding to the cart and checking out, built once: a flash sale runs them
# thousands of times a second, and building one costs more than the database takes to run it.
_carts = Cart.__table__
# (Parameters named apart from the columns: SQLAlchemy keeps those names for the SET clause.)
_MY_CART = and_(
    _carts.c.brand_id == bindparam("of_brand"),
    _carts.c.owner_kind == bindparam("of_kind"),
    _carts.c.owner_id == bindparam("of_owner"),
)
_TOUCH_CART = update(_carts).where(_MY_CART).values(updated_at=bindparam("now")).returning(_carts.c.id)
_MY_CART_ID = select(_carts.c.id).where(_MY_CART)


def _mine(brand_id: uuid.UUID, who: Shopper) -> dict[str, object]:
    return {"of_brand": brand_id, "of_kind": who.kind, "of_owner": who.id}


@functools.cache
def _make_cart(dialect: str) -> Insert:
    names = {"id": "new_id", "brand_id": "of_brand", "owner_kind": "of_kind", "owner_id": "of_owner"}
    values = {c: bindparam(names.get(c, "now"), type_=_carts.c[c].type) for c in (*names, "created_at", "updated_at")}
    return insert_for(dialect, _carts).values(values).on_conflict_do_nothing().returning(_carts.c.id)


async def touch_cart(session: AsyncSession, brand_id: uuid.UUID, who: Shopper, *, now: datetime) -> uuid.UUID:
    """The id of the shopper's cart in the brand, marked as changed now; made on first use."""
    mine = {**_mine(brand_id, who), "now": now}
    cart_id = await session.scalar(_TOUCH_CART, mine)
    if cart_id is None:
        # Nothing returned by the INSERT: another device of the same account made it meanwhile.
        made = _make_cart(dialect_of(session))
        cart_id = await session.scalar(made, {**mine, "new_id": new_id()}) or await session.scalar(_TOUCH_CART, mine)
    assert cart_id is not None
    return cart_id


def refusal(what: Phrase, variant_id: uuid.UUID, left: int) -> Conflict:
    extra = {"variant_id": str(variant_id), "available": max(0, left)}
    if left <= 0:
        return Conflict("errors.cart.sold_out", what=what, extra=extra)
    return Conflict("errors.cart.only_left", count=left, what=what, extra=extra)


def described(product: Product, variant: Variant) -> Phrase:
    """ "Linen dress (M)": the product and its variant as a buyer reads them."""
    label = variant_label(variant.options) if any(variant.options.values()) else Phrase("errors.cart.one_size")
    return Phrase("errors.cart.item", product=product.title, variant=label)


def sold_out(product: Product, variant: Variant, left: int) -> Conflict:
    return refusal(described(product, variant), variant.id, left)


@functools.cache
def _variant_query(by_slug: bool, with_episode: bool) -> Select[Any]:
    query = (
        select(Variant, Product)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id == bindparam("variant_id"))
        .execution_options(populate_existing=True)
    )
    if by_slug:
        query = query.join(Brand, Brand.id == Product.brand_id).where(Brand.slug == bindparam("brand"))
    else:
        query = query.where(Product.brand_id == bindparam("brand", type_=Product.brand_id.type))
    if with_episode:
        query = query.add_columns(Episode).outerjoin(Episode, Episode.id == bindparam("episode_id"))
    return query


async def variant_in(
    session: AsyncSession, brand: BrandKey, variant_id: uuid.UUID, episode_id: uuid.UUID | None = None
) -> tuple[Product, Variant, Episode | None]:
    """The variant and its product, in the brand; with the episode it is bought in, if one is named."""
    query = _variant_query(isinstance(brand, str), episode_id is not None)
    row = (await session.execute(query, {"variant_id": variant_id, "brand": brand, "episode_id": episode_id})).first()
    if row is None:
        if isinstance(brand, str):
            await accounts.get_brand(session, slug=brand)  # "no brand 'x'" rather than "no variant"
        raise NotFound("errors.cart.no_variant", variant_id=variant_id)
    product, variant = row[1], row[0]
    if product.archived:
        raise Conflict("errors.cart.not_for_sale", title=product.title)
    episode = row[2] if episode_id is not None else None
    if episode_id is not None and (episode is None or episode.brand_id != product.brand_id):
        raise NotFound("errors.cart.no_episode", episode_id=episode_id)
    return product, variant, episode


async def live_deal(session: AsyncSession, episode_id: uuid.UUID, product_id: uuid.UUID, now: datetime) -> Pin | None:
    """The pin of this product now on screen with a deal running, if any."""
    pin = await lineup.current(session, episode_id)
    if pin is None or pin.product_id != product_id or not deals.is_active(pin, now):
        return None
    return pin


_LINE = (
    select(CartItem)
    .where(CartItem.cart_id == bindparam("cart_id"), CartItem.variant_id == bindparam("variant_id"))
    .execution_options(populate_existing=True)
)


async def _line(session: AsyncSession, cart_id: uuid.UUID, variant_id: uuid.UUID) -> CartItem | None:
    return await session.scalar(_LINE, {"cart_id": cart_id, "variant_id": variant_id})


_items = CartItem.__table__
_LINE_COLUMNS = (
    "id",
    "cart_id",
    "variant_id",
    "episode_id",
    "quantity",
    "held_quantity",
    "held_until",
    "deal_pin_id",
    "deal_quantity",
    "deal_price",
    "added_at",
)


@functools.cache
def _add_line(dialect: str) -> Insert:
    """Add units to the cart's line of a variant, made on first use; the line's quantity after."""
    insert = insert_for(dialect, _items).values(
        {c: bindparam(f"new_{c}", type_=_items.c[c].type) for c in _LINE_COLUMNS}
    )
    return onto_line(insert).returning(_items.c.quantity)


def onto_line(insert: postgresql.Insert | sqlite.Insert) -> Insert:
    """An INSERT of cart lines whose units join the cart's line of the same variant if it has one."""
    table, new = _items.c, insert.excluded
    return insert.on_conflict_do_update(
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


async def add(
    session: AsyncSession,
    *,
    actor: Principal | None,
    brand: BrandKey,
    data: CartAdd,
    now: datetime,
    bus: Bus,
    facts: Facts,
    hold_minutes: int,
) -> CartOut:
    """Put units in the cart. During the live they are taken off stock and held for the viewer
    (at the deal price while the pinned product's flash deal has units); otherwise they are
    checked now and taken at checkout. The stock is taken last, right before the commit. Units
    added from an episode's card are recorded for its report once committed."""
    who = shopper(actor)
    marks = marks_in(session)
    refuse_if_known_sold_out(marks, brand=brand, variant_id=data.variant_id, now=now)
    # From the pin, maybe a flash sale: a few taps at a time go on to the database.
    async with stock.turn(data.variant_id) if data.episode_id is not None else contextlib.nullcontext():
        refuse_if_known_sold_out(marks, brand=brand, variant_id=data.variant_id, now=now)  # found while waiting
        product, variant, episode = await variant_in(session, brand, data.variant_id, data.episode_id)
        what = described(product, variant)
        if marks is not None:
            marks.described(variant.id, (brand, product.brand_id), what)
        live_now = episode is not None and episode.status == EpisodeStatus.LIVE
        if live_now and variant.stock < data.quantity:  # too late: refused before writing anything
            if variant.stock == 0 and marks is not None:
                marks.seen(variant.id, now)
            raise refusal(what, variant.id, variant.stock)
        cart_id = await touch_cart(session, product.brand_id, who, now=now)
        deal = await live_deal(session, episode.id, product.id, now) if episode is not None and live_now else None
        line = await _line(session, cart_id, variant.id) if deal is not None or not live_now else None
        if line is not None and line.quantity + data.quantity > MAX_LINE_QUANTITY:
            raise InvalidInput("errors.cart.line_max", count=MAX_LINE_QUANTITY)
        if not live_now:
            unheld_wanted = (line.quantity - line.held_quantity if line else 0) + data.quantity
            if unheld_wanted > variant.stock:
                raise refusal(what, variant.id, variant.stock + (line.held_quantity if line else 0))
        deal_units = 0
        if deal is not None and (line is None or line.deal_pin_id in (None, deal.id)):
            if await deals.claim(session, pin_id=deal.id, quantity=data.quantity, now=now, bus=bus):
                deal_units = data.quantity
        held = data.quantity if live_now else 0
        line_values = new_line(
            cart_id,
            variant.id,
            episode.id if episode is not None else None,
            data.quantity,
            held=held,
            now=now,
            hold_minutes=hold_minutes,
            deal=deal if deal_units else None,
        )
        total = await session.scalar(_add_line(dialect_of(session)), {f"new_{c}": v for c, v in line_values.items()})
        if (total or 0) > MAX_LINE_QUANTITY:  # a second tap raced this one past the limit
            raise InvalidInput("errors.cart.line_max", count=MAX_LINE_QUANTITY)
        shown = await cart_out(session, cart_id, product.brand_id, now=now, bus=bus, hold_minutes=hold_minutes)
        if held:
            left = await stock.take(session, variant.id, held)
            if left is None:
                left = 0 if held == 1 else await stock.stock_now(session, variant.id)
                if left == 0 and marks is not None:
                    marks.seen(variant.id, now)
                raise refusal(what, variant.id, left)
            taken(session, bus, shown, variant, left, marks=marks, now=now)
        if episode is not None:
            record_addition(session, facts, episode.id, variant, who, data.quantity, now)
        return shown


def new_line(
    cart_id: uuid.UUID,
    variant_id: uuid.UUID,
    episode_id: uuid.UUID | None,
    quantity: int,
    *,
    held: int,
    now: datetime,
    hold_minutes: int,
    deal: Pin | None = None,
) -> dict[str, Any]:
    """The row of a cart line for units added now (`held` of them held; all at `deal`'s price if given)."""
    return {
        "id": new_id(),
        "cart_id": cart_id,
        "variant_id": variant_id,
        "episode_id": episode_id,
        "quantity": quantity,
        "held_quantity": held,
        "held_until": now + timedelta(minutes=hold_minutes) if held else None,
        "deal_pin_id": deal.id if deal is not None else None,
        "deal_quantity": quantity if deal is not None else 0,
        "deal_price": deal.deal_price if deal is not None else None,
        "added_at": now,
    }


def refuse_if_known_sold_out(
    marks: SoldOutMarks | None, *, brand: BrandKey, variant_id: uuid.UUID, now: datetime
) -> None:
    """Refuse the add at once if this process knows the variant to be sold out in the brand."""
    what = marks.refusal(variant_id, brand, now) if marks is not None else None
    if what is not None:
        raise refusal(what, variant_id, 0)


def record_addition(
    session: AsyncSession,
    facts: Facts,
    episode_id: uuid.UUID,
    variant: Variant,
    who: Shopper,
    quantity: int,
    now: datetime,
) -> None:
    row = {
        "id": new_id(),
        "episode_id": episode_id,
        "product_id": variant.product_id,
        "variant_id": variant.id,
        "shopper_kind": who.kind,
        "shopper_id": who.id,
        "quantity": quantity,
        "added_at": now,
    }

    async def record() -> None:
        facts.record(CartAddition.__table__, row)

    after_commit(session, record)


def taken(
    session: AsyncSession,
    bus: Bus,
    shown: CartOut,
    variant: Variant,
    left: int,
    *,
    marks: SoldOutMarks | None,
    now: datetime,
) -> None:
    """After a take: the cart read before it shows the stock left, and the rooms hear of it."""
    for item in shown.items:
        if item.variant_id == variant.id:
            item.available = item.held_quantity + left
            item.problem = _problem(item.available, item.quantity)
    stock.announce(session, bus, [variant.id])
    if left == 0 and marks is not None:

        async def remember() -> None:
            marks.seen(variant.id, now)

        after_commit(session, remember)


async def _line_of(session: AsyncSession, brand_id: uuid.UUID, who: Shopper, item_id: uuid.UUID) -> CartItem:
    line = await session.scalar(
        select(CartItem)
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(CartItem.id == item_id, Cart.brand_id == brand_id, Cart.owner_kind == who.kind, Cart.owner_id == who.id)
        .execution_options(populate_existing=True)
    )
    if line is None:
        raise NotFound("errors.cart.no_item", item_id=item_id)
    return line


async def _give_back(
    session: AsyncSession, line: CartItem, *, held: int, deal_units: int, now: datetime, bus: Bus
) -> None:
    await stock.give_back(session, line.variant_id, held)
    if deal_units and line.deal_pin_id is not None:
        await deals.give_back(session, pin_id=line.deal_pin_id, quantity=deal_units, now=now, bus=bus)
    if held:
        stock.announce(session, bus, [line.variant_id])


# What "the line exactly as it was read" compares: a change applies only if nobody changed it since.
_AS_READ = ("id", "quantity", "held_quantity", "deal_quantity")


def as_read(line: CartItem):  # type: ignore[no-untyped-def]
    return and_(*(_items.c[c] == getattr(line, c) for c in _AS_READ))


_CLAIM = delete(_items).where(*(_items.c[c] == bindparam(c) for c in _AS_READ))


async def claim(session: AsyncSession, line: CartItem) -> bool:
    """Take the line out of the cart (into an order) if it is still as read; False if it changed."""
    claimed = await session.execute(_CLAIM, {c: getattr(line, c) for c in _AS_READ})
    return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


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
        raise Conflict("errors.cart.changed")
    await session.execute(
        update(Cart).where(Cart.id == line.cart_id).values(updated_at=now).execution_options(synchronize_session=False)
    )
    return await cart_out(session, line.cart_id, brand_id, now=now, bus=bus, hold_minutes=hold_minutes)


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
        product, variant, _ = await variant_in(session, brand_id, line.variant_id)
        holding = line.held_quantity > 0 and line.held_until is not None and line.held_until > now
        if holding:
            if await stock.take(session, variant.id, more) is None:
                raise sold_out(product, variant, await stock.stock_now(session, variant.id) + line.held_quantity)
        elif quantity - line.held_quantity > variant.stock:
            raise sold_out(product, variant, variant.stock + line.held_quantity)
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
            stock.announce(session, bus, [variant.id])
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


_LINES = (
    select(CartItem, Variant, Product)
    .join(Variant, Variant.id == CartItem.variant_id)
    .join(Product, Product.id == Variant.product_id)
    .order_by(CartItem.added_at, CartItem.id)
    .execution_options(populate_existing=True)
)
_LINES_BY_ID = _LINES.where(CartItem.cart_id == bindparam("cart_id"))
_LINES_OF_OWNER = _LINES.where(CartItem.cart_id == _MY_CART_ID.scalar_subquery())
_LINES_OF_CARTS = _LINES.where(CartItem.cart_id.in_(bindparam("cart_ids", expanding=True)))


async def lines(session: AsyncSession, cart_id: uuid.UUID) -> list[tuple[CartItem, Variant, Product]]:
    """The cart's lines with what they are, in the order added, fresh from the database."""
    return [tuple(row) for row in await session.execute(_LINES_BY_ID, {"cart_id": cart_id})]  # type: ignore[misc]


async def lines_of_carts(
    session: AsyncSession, cart_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[CartItem, Variant, Product]]]:
    """The lines of several carts at once, each cart's in the order added."""
    found: dict[uuid.UUID, list[tuple[CartItem, Variant, Product]]] = {cart_id: [] for cart_id in cart_ids}
    for line, variant, product in await session.execute(_LINES_OF_CARTS, {"cart_ids": cart_ids}):
        found[line.cart_id].append((line, variant, product))
    return found


async def my_lines(session: AsyncSession, brand_id: uuid.UUID, who: Shopper) -> list[tuple[CartItem, Variant, Product]]:
    """The lines of the shopper's cart in the brand, without reading the cart first."""
    return [tuple(row) for row in await session.execute(_LINES_OF_OWNER, _mine(brand_id, who))]  # type: ignore[misc]


def line_total(line: CartItem, regular: int) -> int:
    deal_units = line.deal_quantity if line.deal_price is not None else 0
    return deal_units * (line.deal_price or 0) + (line.quantity - deal_units) * regular


def _expired(line: CartItem, now: datetime) -> bool:
    return line.held_quantity > 0 and line.held_until is not None and line.held_until <= now


def _problem(available: int, quantity: int) -> str | None:
    return "sold_out" if available == 0 else "short" if available < quantity else None


async def cart_out(
    session: AsyncSession,
    cart_id: uuid.UUID | None,
    brand_id: uuid.UUID,
    *,
    now: datetime,
    bus: Bus,
    hold_minutes: int,
) -> CartOut:
    """The cart as its viewer sees it, priced now by the server (expired holds released first)."""
    rows = await lines(session, cart_id) if cart_id is not None else []
    if cart_id is not None and any_expired(rows, now):
        await release_expired(session, now=now, bus=bus, cart_id=cart_id)
        rows = await lines(session, cart_id)
    # Products are priced in the brand's currency (changing it waits until they are), so a cart
    # with lines needs no reading of the settings.
    currency = rows[0][2].currency if rows else (await settings_of(session, brand_id, now=now)).currency
    return cart_of_lines(rows, cart_id, brand_id, currency=currency, hold_minutes=hold_minutes)


def any_expired(rows: list[tuple[CartItem, Variant, Product]], now: datetime) -> bool:
    """Whether a line of these has a hold past its time (to be released before the cart is shown)."""
    return any(_expired(line, now) for line, _, _ in rows)


def cart_of_lines(
    rows: list[tuple[CartItem, Variant, Product]],
    cart_id: uuid.UUID | None,
    brand_id: uuid.UUID,
    *,
    currency: str,
    hold_minutes: int,
) -> CartOut:
    """The cart of these lines, as fresh from the database, priced by the server."""
    items = []
    for line, variant, product in rows:
        regular = variant_price(product, variant)
        available = 0 if product.archived else line.held_quantity + variant.stock
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
                problem=_problem(available, line.quantity),
            )
        )
    return CartOut(
        id=cart_id,
        brand_id=brand_id,
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
    # Nothing added yet: an empty cart, and a viewer who only watches writes nothing.
    cart_id = await session.scalar(_MY_CART_ID, _mine(brand.id, shopper(actor)))
    return await cart_out(session, cart_id, brand.id, now=now, bus=bus, hold_minutes=hold_minutes)
