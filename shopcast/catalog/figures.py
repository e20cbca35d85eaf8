"""What an episode's cards showed and sold, in figures, for its report: counted in SQL from the facts
(pins, cards seen, units added to carts, order lines).

A sale belongs to the episode whose card its line was added from (`OrderLine.episode_id`); it is a
live sale when its order was placed while the episode was live, a replay sale when placed after it
ended. Cancelled orders are left out (their stock went back)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from shopcast.catalog.models import CardView, CartAddition, Order, OrderLine, Pin, Product
from shopcast.core.db import dialect_of
from shopcast.core.errors import NotFound
from shopcast.core.facts import Facts
from shopcast.core.sql_time import Period, epoch, minute, seconds


@dataclass(frozen=True)
class ProductFigures:
    product_id: uuid.UUID
    title: str
    pins: int
    seconds_on_screen: int
    card_views: int
    replay_card_views: int
    adds: int
    units_added: int
    orders: int
    units_sold: int
    revenue: int


@dataclass(frozen=True)
class Sales:
    carts: int
    """Viewers who put something in their cart from the episode's cards."""
    adds: int
    orders: int
    buyers: int
    units: int
    revenue: int


@dataclass(frozen=True)
class PinMark:
    product_id: uuid.UUID
    title: str
    shown_at: datetime
    hidden_at: datetime | None


def record_card_view(
    facts: Facts,
    *,
    episode_id: uuid.UUID,
    pin_id: uuid.UUID,
    viewer_kind: str,
    viewer_id: uuid.UUID,
    replay: bool,
    now: datetime,
) -> None:
    """A viewer's page showed a pin's card, live or over the replay (each viewer counts once per pin and each)."""
    row = {"pin_id": pin_id, "viewer_kind": viewer_kind, "viewer_id": viewer_id, "episode_id": episode_id}
    facts.record(CardView.__table__, {**row, "replay": replay, "viewed_at": now})


async def record_replay_card_view(
    session: AsyncSession,
    facts: Facts,
    *,
    episode_id: uuid.UUID,
    pin_id: uuid.UUID,
    viewer_kind: str,
    viewer_id: uuid.UUID,
    staff: bool,
    now: datetime,
) -> None:
    """The replay showed one of the episode's pins over the video (404 for a pin of another episode); the
    brand's `staff` are not the audience: not counted."""
    if await session.scalar(select(Pin.id).where(Pin.id == pin_id, Pin.episode_id == episode_id)) is None:
        raise NotFound("errors.replay.no_pin", pin_id=pin_id)
    if staff:
        return
    record_card_view(
        facts, episode_id=episode_id, pin_id=pin_id, viewer_kind=viewer_kind, viewer_id=viewer_id, replay=True, now=now
    )


def _sold(episode_id: uuid.UUID) -> ColumnElement[bool]:
    return (OrderLine.episode_id == episode_id) & (Order.status != "cancelled")


async def sold(
    session: AsyncSession, *, episode_id: uuid.UUID, placed: ColumnElement[bool] | None = None
) -> tuple[int, int, int]:
    """Orders, units and revenue bought from the episode's cards (of orders `placed` so, if given)."""
    condition = _sold(episode_id) if placed is None else _sold(episode_id) & placed
    orders, units, revenue = (
        await session.execute(
            select(
                func.count(distinct(Order.id)),
                func.coalesce(func.sum(OrderLine.quantity), 0),
                func.coalesce(func.sum(OrderLine.line_total), 0),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(condition)
        )
    ).one()
    return int(orders), int(units), int(revenue)


def _placed_in(start: datetime, end: datetime | None) -> ColumnElement[bool]:
    placed = Order.created_at >= start
    return placed if end is None else placed & (Order.created_at < end)


async def sales(session: AsyncSession, *, episode_id: uuid.UUID, start: datetime, end: datetime | None) -> Sales:
    """Carts filled from the episode's cards and orders of them placed from `start` to `end` (None: to now)."""
    added = CartAddition.added_at >= start
    if end is not None:
        added &= CartAddition.added_at < end
    in_period = (CartAddition.episode_id == episode_id) & added
    shoppers = select(CartAddition.shopper_kind, CartAddition.shopper_id).where(in_period).distinct().subquery()
    carts = await session.scalar(select(func.count()).select_from(shoppers))
    adds = await session.scalar(select(func.count()).where(in_period))
    orders, units, revenue = await sold(session, episode_id=episode_id, placed=_placed_in(start, end))
    placed = _sold(episode_id) & _placed_in(start, end)
    buyer_rows = (
        select(Order.buyer_kind, Order.buyer_id).join(OrderLine, OrderLine.order_id == Order.id).where(placed)
    ).distinct()
    buyers = await session.scalar(select(func.count()).select_from(buyer_rows.subquery()))
    return Sales(int(carts or 0), int(adds or 0), orders, int(buyers or 0), units, revenue)


async def sales_by_minute(
    session: AsyncSession, *, episode_id: uuid.UUID, period: Period
) -> tuple[dict[int, int], dict[int, int]]:
    """Orders (of the episode's cards) placed in each minute of the period, and their revenue."""
    at = minute(epoch(Order.created_at, dialect_of(session)), seconds(period.start)).label("m")
    rows = await session.execute(
        select(at, func.count(distinct(Order.id)), func.sum(OrderLine.line_total))
        .join(Order, Order.id == OrderLine.order_id)
        .where(_sold(episode_id), _placed_in(period.start, period.end))
        .group_by(at)
    )
    orders, revenue = {}, {}
    for at_minute, count, total in rows:
        orders[int(at_minute)], revenue[int(at_minute)] = int(count), int(total or 0)
    return orders, revenue


async def products(session: AsyncSession, *, episode_id: uuid.UUID, until: datetime) -> list[ProductFigures]:
    """Each product the episode pinned or sold: time on screen, cards seen (and of those, over the replay),
    adds, orders, revenue."""
    dialect = dialect_of(session)
    shown = func.coalesce(epoch(Pin.hidden_at, dialect), seconds(until)) - epoch(Pin.shown_at, dialect)
    on_screen = {
        product_id: (int(count), float(total or 0), first)
        for product_id, count, total, first in await session.execute(
            select(Pin.product_id, func.count(), func.sum(shown), func.min(Pin.shown_at))
            .where(Pin.episode_id == episode_id)
            .group_by(Pin.product_id)
        )
    }
    replayed = func.sum(case((CardView.replay.is_(True), 1), else_=0))
    views = {
        product_id: (int(count), int(over_replay or 0))
        for product_id, count, over_replay in await session.execute(
            select(Pin.product_id, func.count(), replayed)
            .join(CardView, CardView.pin_id == Pin.id)
            .where(Pin.episode_id == episode_id)
            .group_by(Pin.product_id)
        )
    }
    adds = {
        product_id: (int(count), int(units or 0))
        for product_id, count, units in await session.execute(
            select(CartAddition.product_id, func.count(), func.sum(CartAddition.quantity))
            .where(CartAddition.episode_id == episode_id)
            .group_by(CartAddition.product_id)
        )
    }
    sold = {
        product_id: (int(orders), int(units or 0), int(revenue or 0))
        for product_id, orders, units, revenue in await session.execute(
            select(
                OrderLine.product_id,
                func.count(distinct(OrderLine.order_id)),
                func.sum(OrderLine.quantity),
                func.sum(OrderLine.line_total),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(_sold(episode_id))
            .group_by(OrderLine.product_id)
        )
    }
    ids = set(on_screen) | set(adds) | set(sold)
    titles = dict((await session.execute(select(Product.id, Product.title).where(Product.id.in_(ids)))).all())
    # In the order the products were first shown; products sold without being pinned, after them.
    ordered = sorted(ids, key=lambda p: (p not in on_screen, on_screen[p][2] if p in on_screen else 0, titles[p]))
    return [
        ProductFigures(
            product_id=p,
            title=titles[p],
            pins=on_screen.get(p, (0, 0.0, None))[0],
            seconds_on_screen=round(on_screen.get(p, (0, 0.0, None))[1]),
            card_views=views.get(p, (0, 0))[0],
            replay_card_views=views.get(p, (0, 0))[1],
            adds=adds.get(p, (0, 0))[0],
            units_added=adds.get(p, (0, 0))[1],
            orders=sold.get(p, (0, 0, 0))[0],
            units_sold=sold.get(p, (0, 0, 0))[1],
            revenue=sold.get(p, (0, 0, 0))[2],
        )
        for p in ordered
    ]


async def pin_marks(session: AsyncSession, *, episode_id: uuid.UUID) -> list[PinMark]:
    """The episode's pins in the order shown, with their product's title (for the report's chart)."""
    rows = await session.execute(
        select(Pin.product_id, Product.title, Pin.shown_at, Pin.hidden_at)
        .join(Product, Product.id == Pin.product_id)
        .where(Pin.episode_id == episode_id)
        .order_by(Pin.shown_at, Pin.id)
    )
    return [PinMark(*row) for row in rows]


async def facts_recorded(session: AsyncSession, *, episode_id: uuid.UUID) -> bool:
    """Whether cards seen and adds to cart were recorded for the episode (episodes from before they
    were have none at all)."""
    viewed = exists().where(CardView.episode_id == episode_id)
    added = exists().where(CartAddition.episode_id == episode_id)
    return bool(await session.scalar(select(or_(viewed, added))))
