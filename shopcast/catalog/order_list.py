"""The brand's orders as its managers look through them: filtered, a page at a time, and the totals of
what the filters match."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from shopcast.catalog import order_access as access
from shopcast.catalog.commerce import settings_of
from shopcast.catalog.models import Order, OrderLine
from shopcast.catalog.order_schemas import OrderFilters, OrdersQuery, OrderTotals, Revenue
from shopcast.catalog.orders import order_out
from shopcast.catalog.schemas import OrderOut
from shopcast.core.errors import InvalidInput
from shopcast.core.security import Principal

# Newest first; orders placed in the same instant in a fixed order, so pages neither skip nor repeat one.
NEWEST_FIRST = (Order.created_at.desc(), Order.id)


def matching(brand_id: uuid.UUID, filters: OrderFilters) -> list[ColumnElement[bool]]:
    """The conditions on `Order` for the brand's orders the filters keep."""
    conditions = [Order.brand_id == brand_id]
    if filters.status is not None:
        conditions.append(Order.status == filters.status)
    if filters.since is not None:
        conditions.append(Order.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(Order.created_at < filters.until)
    if filters.episode_id is not None:
        # Its own name for the lines: a query that also reads order_lines must not bind this one to its rows.
        line = aliased(OrderLine)
        conditions.append(exists().where(line.order_id == Order.id, line.episode_id == filters.episode_id))
    return conditions


async def _after(session: AsyncSession, brand_id: uuid.UUID, order_id: uuid.UUID) -> ColumnElement[bool]:
    """The orders listed after this one, newest first."""
    last = await session.get(Order, order_id)
    if last is None or last.brand_id != brand_id:
        raise InvalidInput("errors.orders.after_unknown")
    return or_(Order.created_at < last.created_at, and_(Order.created_at == last.created_at, Order.id > last.id))


async def list_orders(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, query: OrdersQuery, now: datetime
) -> list[OrderOut]:
    """A page of the brand's orders the filters keep, newest first (managers)."""
    brand = await access.managed_brand(session, actor=actor, brand_slug=brand_slug)
    conditions = matching(brand.id, query)
    if query.after_id is not None:
        conditions.append(await _after(session, brand.id, query.after_id))
    found = list(await session.scalars(select(Order).where(*conditions).order_by(*NEWEST_FIRST).limit(query.limit)))
    lines: dict[uuid.UUID, list[OrderLine]] = {order.id: [] for order in found}
    for line in await session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(lines)).order_by(OrderLine.order_id, OrderLine.position)
    ):
        lines[line.order_id].append(line)
    settings = await settings_of(session, brand.id, now=now)
    return [await order_out(session, order, now=now, lines=lines[order.id], settings=settings) for order in found]


async def order_totals(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, filters: OrderFilters
) -> OrderTotals:
    """How many orders the filters keep, their units and revenue per currency, cancelled ones left out of
    both (managers)."""
    brand = await access.managed_brand(session, actor=actor, brand_slug=brand_slug)
    conditions = matching(brand.id, filters)
    kept = Order.status != "cancelled"
    per_currency = await session.execute(
        select(
            Order.currency,
            func.count(),
            func.sum(case((kept, 0), else_=1)),
            func.sum(case((kept, Order.total), else_=0)),
        )
        .where(*conditions)
        .group_by(Order.currency)
        .order_by(Order.currency)
    )
    orders = cancelled = 0
    revenue = []
    for currency, count, cancelled_here, amount in per_currency.all():
        orders, cancelled = orders + int(count), cancelled + int(cancelled_here)
        revenue.append(Revenue(currency=currency, amount=int(amount)))
    units = await session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(*conditions, kept)
    )
    return OrderTotals(orders=orders, cancelled=cancelled, units=int(units or 0), revenue=revenue)
