"""Flash deals on a pin: a price for a limited quantity and a countdown, decided by the server.

Units are claimed at the deal price by one conditional UPDATE of the pin (still running, not
past its end, enough left), so a thousand taps at once claim exactly `quantity` units; a deal
ends once, whoever notices first (the countdown ticker on any process, the last claim, the host).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog.events import DEAL_CHANGED, DEAL_ENDED
from shopcast.catalog.models import Pin, Product, Variant
from shopcast.catalog.schemas import DealChanged, DealEnd, DealEnded, DealOut
from shopcast.core.bus import Bus
from shopcast.core.errors import InvalidInput
from shopcast.live.events import tell_room


def is_active(pin: Pin, now: datetime) -> bool:
    return (
        pin.deal_price is not None
        and pin.deal_ended_reason is None
        and pin.deal_ends_at is not None
        and now < pin.deal_ends_at
        and pin.deal_sold < (pin.deal_quantity or 0)
    )


def deal_out(pin: Pin, *, now: datetime) -> DealOut | None:
    if pin.deal_price is None or pin.deal_quantity is None or pin.deal_starts_at is None or pin.deal_ends_at is None:
        return None
    return DealOut(
        price=pin.deal_price,
        quantity=pin.deal_quantity,
        remaining=max(0, pin.deal_quantity - pin.deal_sold),
        starts_at=pin.deal_starts_at,
        ends_at=pin.deal_ends_at,
        active=is_active(pin, now),
        ended_reason=pin.deal_ended_reason,  # type: ignore[arg-type]
    )


async def check_price(session: AsyncSession, product: Product, price: int) -> None:
    """A deal is a discount: below the regular price of every variant."""
    variant_prices = await session.scalars(select(Variant.price).where(Variant.product_id == product.id))
    lowest = min([product.price, *(p for p in variant_prices if p is not None)])
    if price >= lowest:
        raise InvalidInput("errors.pin.deal_price", lowest=lowest)


def begin(pin: Pin, *, price: int, quantity: int, seconds: int, now: datetime) -> None:
    pin.deal_price, pin.deal_quantity, pin.deal_sold = price, quantity, 0
    pin.deal_starts_at, pin.deal_ends_at = now, now + timedelta(seconds=seconds)
    pin.deal_ended_reason = None


async def _regular_price(session: AsyncSession, product_id: uuid.UUID) -> int:
    return int(await session.scalar(select(Product.price).where(Product.id == product_id)) or 0)


async def _ended(
    session: AsyncSession, bus: Bus, pin_id: uuid.UUID, episode_id: uuid.UUID, product_id: uuid.UUID, reason: DealEnd
) -> None:
    ended = DealEnded(
        pin_id=pin_id, product_id=product_id, reason=reason, price=await _regular_price(session, product_id)
    )
    tell_room(session, bus, episode_id, DEAL_ENDED, ended.model_dump(mode="json"))


async def _end_once(session: AsyncSession, pin_id: uuid.UUID, reason: DealEnd) -> bool:
    """Mark the deal ended unless something else already did; True if this call ended it."""
    ended = await session.scalar(
        update(Pin)
        .where(Pin.id == pin_id, Pin.deal_price.is_not(None), Pin.deal_ended_reason.is_(None))
        .values(deal_ended_reason=reason)
        .returning(Pin.id)
        .execution_options(synchronize_session=False)
    )
    return ended is not None


async def end(session: AsyncSession, pin: Pin, *, reason: DealEnd, now: datetime, bus: Bus) -> None:
    """End the deal now (the host stopped it, or unpinned the product)."""
    if await _end_once(session, pin.id, reason):
        await _ended(session, bus, pin.id, pin.episode_id, pin.product_id, reason)
    await session.refresh(pin)


async def claim(session: AsyncSession, *, pin_id: uuid.UUID, quantity: int, now: datetime, bus: Bus) -> bool:
    """Claim `quantity` units at the deal price if the deal runs and has them; tell the room."""
    row = (
        await session.execute(
            update(Pin)
            .where(
                Pin.id == pin_id,
                Pin.deal_ended_reason.is_(None),
                Pin.deal_ends_at > now,
                Pin.deal_sold + quantity <= Pin.deal_quantity,
            )
            .values(deal_sold=Pin.deal_sold + quantity)
            .returning(Pin.deal_sold, Pin.deal_quantity, Pin.episode_id, Pin.product_id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        return False
    sold, limit, episode_id, product_id = row
    if sold >= limit:
        if await _end_once(session, pin_id, "sold_out"):
            await _ended(session, bus, pin_id, episode_id, product_id, "sold_out")
    else:
        changed = DealChanged(pin_id=pin_id, product_id=product_id, remaining=limit - sold)
        tell_room(session, bus, episode_id, DEAL_CHANGED, changed.model_dump(mode="json"))
    return True


async def give_back(session: AsyncSession, *, pin_id: uuid.UUID, quantity: int, now: datetime, bus: Bus) -> None:
    """Deal units released from a cart go back to the deal (to be claimed again while it runs)."""
    row = (
        await session.execute(
            update(Pin)
            .where(Pin.id == pin_id, Pin.deal_sold >= quantity)
            .values(deal_sold=Pin.deal_sold - quantity)
            .returning(
                Pin.deal_sold,
                Pin.deal_quantity,
                Pin.episode_id,
                Pin.product_id,
                Pin.deal_ended_reason,
                Pin.deal_ends_at,
            )
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        return
    sold, limit, episode_id, product_id, ended, ends_at = row
    if ended is None and ends_at is not None and now < ends_at:
        changed = DealChanged(pin_id=pin_id, product_id=product_id, remaining=limit - sold)
        tell_room(session, bus, episode_id, DEAL_CHANGED, changed.model_dump(mode="json"))


async def end_due(session: AsyncSession, *, now: datetime, bus: Bus) -> int:
    """End every deal whose countdown reached zero (safe on every process at once); how many ended."""
    due = (Pin.deal_ended_reason.is_(None), Pin.deal_ends_at <= now)
    # Looked for first: an UPDATE, even of no row, would take SQLite's write lock every second.
    if await session.scalar(select(Pin.id).where(*due).limit(1)) is None:
        return 0
    rows = list(
        await session.execute(
            update(Pin)
            .where(*due)
            .values(deal_ended_reason="time")
            .returning(Pin.id, Pin.episode_id, Pin.product_id)
            .execution_options(synchronize_session=False)
        )
    )
    for pin_id, episode_id, product_id in rows:
        await _ended(session, bus, pin_id, episode_id, product_id, "time")
    return len(rows)
