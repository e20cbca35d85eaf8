from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id
from shopcast.live.lifecycle import EpisodeStatus


class Show(Base):
    """A brand's recurring programme, e.g. every Tuesday at 19:00 Paris time."""

    __tablename__ = "shows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cover_image_url: Mapped[str | None] = mapped_column(String(1000))
    time_zone: Mapped[str] = mapped_column(String(64))
    # Wall-clock time of the first episode in the show's time zone (no offset on purpose:
    # the offset changes with DST, the wall-clock time does not).
    first_episode_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    rrule: Mapped[str] = mapped_column(String(500))
    duration_minutes: Mapped[int]
    default_host_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Episodes exist up to here; reads extend it as time passes.
    scheduled_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Episode(Base):
    """One airing of a show: generated from its recurrence, or added as a one-off."""

    __tablename__ = "episodes"
    __table_args__ = (
        UniqueConstraint("show_id", "occurrence_at"),
        Index("ix_episodes_brand_starts", "brand_id", "starts_at"),
        Index("ix_episodes_show_starts", "show_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    show_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    # The slot the recurrence gave it (UTC); None for a one-off. Kept when the episode is moved,
    # so regeneration never recreates a moved or cancelled occurrence.
    occurrence_at: Mapped[datetime | None]
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(120))
    host_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[EpisodeStatus] = mapped_column(
        Enum(EpisodeStatus, name="episode_status", values_callable=lambda e: [s.value for s in e]),
        default=EpisodeStatus.SCHEDULED,
    )
    went_live_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
