"""Stock, taken and given back with one conditional UPDATE each: never below zero, on either database.

`take` is the only way units leave the shelf (into a cart's hold or an order). Its
`WHERE stock >= :quantity` is evaluated by the database on the row as it is when the UPDATE
runs: on PostgreSQL a concurrent buyer's UPDATE waits for the row and re-checks the condition
on the committed value; on SQLite writers take turns. No read-then-write, so no oversell; the
CHECK constraint on `variants.stock` is the last line of defence. PostgreSQL keeps the row
locked until the commit, so callers take the stock last, right before committing: the buyers of
one variant then wait for one statement and a commit each, not for the whole request.

Two things keep a flash sale off the database without deciding anything:
- the live rooms are told of stock changes in batches after the commits (`StockNews`), one
  reading of the stock for every change made meanwhile instead of three statements per sale;
- a variant known to be sold out is refused from memory (`sold_out.SoldOutMarks`). Only a refusal
  is answered from memory: a unit is sold by the conditional UPDATE alone, and units put back or
  read on sale again clear the mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterable

from sqlalchemy import bindparam, select, union, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shopcast.catalog import sold_out
from shopcast.catalog.events import STOCK_CHANGED
from shopcast.catalog.models import LineupEntry, Pin, Variant
from shopcast.catalog.schemas import StockChanged
from shopcast.core.bus import Bus
from shopcast.core.db import after_commit
from shopcast.live.events import episode_room
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode

log = logging.getLogger(__name__)
STOCK_NEWS_GATHER_SECONDS = 0.1  # as long as the pin may take to show "sold out" to everyone


_variants = Variant.__table__
_TAKE = (
    update(_variants)
    .where(_variants.c.id == bindparam("variant_id"), _variants.c.stock >= bindparam("quantity"))
    .values(stock=_variants.c.stock - bindparam("quantity"))
    .returning(_variants.c.stock)
)


async def take(session: AsyncSession, variant_id: uuid.UUID, quantity: int) -> int | None:
    """Take `quantity` units off sale if that many are left; the stock left, or None if too few."""
    return await session.scalar(_TAKE, {"variant_id": variant_id, "quantity": quantity})


async def give_back(session: AsyncSession, variant_id: uuid.UUID, quantity: int) -> None:
    """Put units back on sale (a hold expired, a cart line shrank, an order was cancelled)."""
    if quantity > 0:
        sold_out.put_back(session, [variant_id])
        await session.execute(
            update(Variant)
            .where(Variant.id == variant_id)
            .values(stock=Variant.stock + quantity)
            .execution_options(synchronize_session=False)
        )


async def stock_now(session: AsyncSession, variant_id: uuid.UUID) -> int:
    return int(await session.scalar(select(Variant.stock).where(Variant.id == variant_id)) or 0)


# --- taking turns at a variant -------------------------------------------------------------------

TURNS_PER_VARIANT = 4  # requests of one process adding one variant to carts at once
_turns: dict[uuid.UUID, tuple[asyncio.Semaphore, list[int]]] = {}


@contextlib.asynccontextmanager
async def turn(variant_id: uuid.UUID) -> AsyncIterator[None]:
    """Wait for a turn at the variant. A thousand taps on the pinned product at once would
    otherwise all wait for a database connection, and the buyers checking out behind them; here
    they wait without one, a few go at a time, and once the variant is sold out each turn ends
    at its sold-out mark. (Letting every waiter in at once then was tried: the burst of answers
    delayed the checkouts more than the queue did.)"""
    gate, waiting = _turns.setdefault(variant_id, (asyncio.Semaphore(TURNS_PER_VARIANT), [0]))
    waiting[0] += 1
    try:
        async with gate:
            yield
    finally:
        waiting[0] -= 1
        if not waiting[0]:
            del _turns[variant_id]


# --- telling the live rooms ----------------------------------------------------------------------


_others = Variant.__table__.alias("others")
_STOCK_NOW = select(
    _variants.c.id,
    _variants.c.product_id,
    _variants.c.stock,
    # Whether any variant of the product is left: the pin shows "sold out" only when none is.
    select(_others.c.id)
    .where(_others.c.product_id == _variants.c.product_id, _others.c.stock > 0)
    .exists()
    .label("product_in_stock"),
).where(_variants.c.id.in_(bindparam("variant_ids", expanding=True)))
_SHOWN = union(
    select(LineupEntry.episode_id, LineupEntry.product_id).where(
        LineupEntry.product_id.in_(bindparam("product_ids", expanding=True))
    ),
    select(Pin.episode_id, Pin.product_id).where(Pin.product_id.in_(bindparam("product_ids", expanding=True))),
).subquery()
_LIVE_ROOMS = (
    select(_SHOWN.c.episode_id, _SHOWN.c.product_id)
    .join(Episode, Episode.id == _SHOWN.c.episode_id)
    .where(Episode.status == EpisodeStatus.LIVE)
)


async def _stock_events(
    session: AsyncSession, ids: set[uuid.UUID], marks: sold_out.SoldOutMarks
) -> list[tuple[str, StockChanged]]:
    """`stock:changed` for each live room showing these variants' products (lineup or pin), from
    the stock now (which clears the sold-out marks of those on sale)."""
    changed = list(await session.execute(_STOCK_NOW, {"variant_ids": list(ids)}))
    for variant_id, _, left, _ in changed:
        if left > 0:
            marks.cleared(variant_id)
    products = list({product_id for _, product_id, _, _ in changed})
    rooms: dict[uuid.UUID, list[str]] = {}
    for episode_id, product_id in await session.execute(_LIVE_ROOMS, {"product_ids": products}):
        rooms.setdefault(product_id, []).append(episode_room(episode_id))
    return [
        (room, StockChanged(product_id=product_id, variant_id=variant_id, stock=left, sold_out=not any_left))
        for variant_id, product_id, left, any_left in changed
        for room in rooms.get(product_id, [])
    ]


class StockNews:
    """Tells the live rooms the stock of the variants changed by committed transactions. One
    reading at a time: what changes while it runs is read together on the next round, so a
    thousand sales in a second are a few readings, each with the stock as it is by then."""

    def __init__(self, engine: AsyncEngine, bus: Bus) -> None:
        self._engine = engine
        self._bus = bus
        self._pending: set[uuid.UUID] = set()
        self._task: asyncio.Task[None] | None = None

    def changed(self, variant_ids: set[uuid.UUID]) -> None:
        self._pending |= variant_ids
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._tell(), name="stock-news")

    async def _tell(self) -> None:
        while self._pending:
            ids, self._pending = self._pending, set()
            try:
                async with AsyncSession(self._engine) as session:
                    events = await _stock_events(session, ids, sold_out.marks_of(self._engine))
                for room, event in events:
                    await self._bus.publish(room, STOCK_CHANGED, event.model_dump(mode="json"))
            except Exception:
                log.exception("telling the live rooms of a stock change failed")
            if self._pending:  # changes keep coming: gather them a little (still well within a second)
                await asyncio.sleep(STOCK_NEWS_GATHER_SECONDS)

    async def close(self) -> None:
        """Tell what is still pending (at shutdown, before the bus and the database close)."""
        if self._task is not None:
            await self._task


_news: dict[Bus, StockNews] = {}  # each app's, until it closes (close_news)


def _news_for(engine: AsyncEngine, bus: Bus) -> StockNews:
    news = _news.get(bus)
    if news is None:
        news = _news[bus] = StockNews(engine, bus)
    return news


async def close_news(bus: Bus) -> None:
    news = _news.pop(bus, None)
    if news is not None:
        await news.close()


def announce(session: AsyncSession, bus: Bus, variant_ids: Iterable[uuid.UUID]) -> None:
    """Tell the live rooms showing these variants' products their stock, once the change is committed."""
    ids = set(variant_ids)
    engine = session.bind
    if not ids or not isinstance(engine, AsyncEngine):
        return

    async def tell() -> None:
        _news_for(engine, bus).changed(ids)

    after_commit(session, tell)
