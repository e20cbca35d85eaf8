"""Realtime events of the live domain, published to the episode's room."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.core.bus import Bus
from shopcast.core.db import after_commit
from shopcast.live.lifecycle import EpisodeStatus

EPISODE_LIVE = "episode:live"
EPISODE_ENDED = "episode:ended"
EPISODE_CANCELLED = "episode:cancelled"

EVENT_FOR_STATUS = {
    EpisodeStatus.LIVE: EPISODE_LIVE,
    EpisodeStatus.ENDED: EPISODE_ENDED,
    EpisodeStatus.CANCELLED: EPISODE_CANCELLED,
}


def episode_room(episode_id: uuid.UUID) -> str:
    return f"episode:{episode_id}"


def room_episode(room: str) -> uuid.UUID:
    """The episode of a room name made by `episode_room`."""
    return uuid.UUID(room.removeprefix("episode:"))


def tell_room(session: AsyncSession, bus: Bus, episode_id: uuid.UUID, event: str, payload: dict[str, Any]) -> None:
    """Tell the episode's room once the change is committed (never about a change rolled back)."""

    async def announce() -> None:
        await bus.publish(episode_room(episode_id), event, payload)

    after_commit(session, announce)


class EpisodeStatusChanged(BaseModel):
    """Payload of `episode:live`, `episode:ended` and `episode:cancelled`."""

    episode_id: uuid.UUID = Field(description="The episode whose status changed.")
    status: EpisodeStatus = Field(description="Its new status.")
    at: datetime = Field(description="When it changed (UTC).")
