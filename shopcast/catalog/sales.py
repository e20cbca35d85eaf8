"""What an episode has sold so far, for its staff: the studio's live sales line."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog.commerce import settings_of
from shopcast.catalog.models import Order, OrderLine
from shopcast.catalog.schemas import EpisodeSales
from shopcast.core.security import Principal, authorize
from shopcast.live import service as live


async def episode_sales(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime
) -> EpisodeSales:
    """Orders, units and revenue (the lines' totals: without shipping) bought from the episode's
    cards, cancelled orders left out (their stock went back)."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id)
    orders, units, revenue = (
        await session.execute(
            select(
                func.count(distinct(Order.id)),
                func.coalesce(func.sum(OrderLine.quantity), 0),
                func.coalesce(func.sum(OrderLine.line_total), 0),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.episode_id == episode_id, Order.status != "cancelled")
        )
    ).one()
    currency = (await settings_of(session, episode.brand_id, now=now)).currency
    return EpisodeSales(orders=int(orders), units=int(units), revenue=int(revenue), currency=currency)
