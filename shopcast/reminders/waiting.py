"""Which episodes viewers are waiting for: the schedule asks before it lets an episode go."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.reminders.models import EpisodeReminder


async def awaited(session: AsyncSession, episode_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of these episodes someone asked to be reminded of."""
    if not episode_ids:
        return set()
    found = await session.scalars(
        select(EpisodeReminder.episode_id).where(EpisodeReminder.episode_id.in_(episode_ids)).distinct()
    )
    return set(found)
