"""What an episode has sold so far, for its staff: the studio's live sales line."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import figures
from shopcast.catalog.commerce import settings_of
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
    orders, units, revenue = await figures.sold(session, episode_id=episode_id)
    currency = (await settings_of(session, episode.brand_id, now=now)).currency
    return EpisodeSales(orders=orders, units=units, revenue=revenue, currency=currency)
