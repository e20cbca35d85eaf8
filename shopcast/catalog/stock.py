"""Stock, taken and given back with one conditional UPDATE each: never below zero, on either database.

`take` is the only way units leave the shelf (into a cart's hold or an order). Its
`WHERE stock >= :quantity` is evaluated by the database on the row as it is when the UPDATE
runs: on PostgreSQL a concurrent buyer's UPDATE waits for the row and re-checks the condition
on the committed value; on SQLite writers take turns. No read-then-write, so no oversell; the
CHECK constraint on `variants.stock` is the last line of defence.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog.events import STOCK_CHANGED
from shopcast.catalog.models import LineupEntry, Pin, Variant
from shopcast.catalog.schemas import StockChanged
from shopcast.core.bus import Bus
from shopcast.core.db import after_commit
from shopcast.live.events import episode_room
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode


async def take(session: AsyncSession, variant_id: uuid.UUID, quantity: int) -> int | None:
    """Take `quantity` units off sale if that many are left; the stock left, or None if too few."""
    left = await session.scalar(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .returning(Variant.stock)
        .execution_options(synchronize_session=False)
    )
    return left


async def give_back(session: AsyncSession, variant_id: uuid.UUID, quantity: int) -> None:
    """Put units back on sale (a hold expired, a cart line shrank, an order was cancelled)."""
    if quantity > 0:
        await session.execute(
            update(Variant)
            .where(Variant.id == variant_id)
            .values(stock=Variant.stock + quantity)
            .execution_options(synchronize_session=False)
        )


async def _live_rooms_showing(session: AsyncSession, product_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """For each product, the rooms of live episodes that have it in their lineup or pinned it."""
    shown = union(
        select(LineupEntry.episode_id, LineupEntry.product_id).where(LineupEntry.product_id.in_(product_ids)),
        select(Pin.episode_id, Pin.product_id).where(Pin.product_id.in_(product_ids)),
    ).subquery()
    rows = await session.execute(
        select(shown.c.episode_id, shown.c.product_id)
        .join(Episode, Episode.id == shown.c.episode_id)
        .where(Episode.status == EpisodeStatus.LIVE)
    )
    rooms: dict[uuid.UUID, list[str]] = {}
    for episode_id, product_id in rows:
        rooms.setdefault(product_id, []).append(episode_room(episode_id))
    return rooms


async def announce(session: AsyncSession, bus: Bus, variant_ids: Iterable[uuid.UUID]) -> None:
    """Tell the live rooms showing these variants' products their stock, once the change is committed."""
    ids = set(variant_ids)
    if not ids:
        return
    changed = list(
        await session.execute(select(Variant.id, Variant.product_id, Variant.stock).where(Variant.id.in_(ids)))
    )
    products = {product_id for _, product_id, _ in changed}
    rooms = await _live_rooms_showing(session, products)
    if not rooms:
        return
    in_stock = set(
        await session.scalars(select(Variant.product_id).where(Variant.product_id.in_(products), Variant.stock > 0))
    )
    events = [
        (
            room,
            StockChanged(product_id=product_id, variant_id=variant_id, stock=left, sold_out=product_id not in in_stock),
        )
        for variant_id, product_id, left in changed
        for room in rooms.get(product_id, [])
    ]

    async def publish() -> None:
        for room, event in events:
            await bus.publish(room, STOCK_CHANGED, event.model_dump(mode="json"))

    after_commit(session, publish)
