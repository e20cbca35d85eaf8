"""Realtime events of the live domain, published to the episode's room."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

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


class EpisodeStatusChanged(BaseModel):
    """Payload of `episode:live`, `episode:ended` and `episode:cancelled`."""

    episode_id: uuid.UUID = Field(description="The episode whose status changed.")
    status: EpisodeStatus = Field(description="Its new status.")
    at: datetime = Field(description="When it changed (UTC).")
