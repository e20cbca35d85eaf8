from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class Giveaway(Base):
    """A prize drawn among an episode's viewers, by a seed committed to when entries open."""

    __tablename__ = "giveaways"
    __table_args__ = (Index("ix_giveaways_episode", "episode_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    prize_title: Mapped[str] = mapped_column(String(200))
    prize_picture_url: Mapped[str | None] = mapped_column(String(1000))
    prize_value: Mapped[int]
    prize_currency: Mapped[str] = mapped_column(String(3))
    winners: Mapped[int]
    rules: Mapped[str] = mapped_column(Text)
    entry: Mapped[str] = mapped_column(String(8))  # "button" | "keyword"
    keyword: Mapped[str | None] = mapped_column(String(30))
    present_at_draw: Mapped[bool]
    min_watch_minutes: Mapped[int]
    bought_during_show: Mapped[bool]
    claim_hours: Mapped[int]
    status: Mapped[str] = mapped_column(String(8))  # "draft" | "open" | "closed" | "drawn"
    # Chosen when entries open, before any entry exists; unique: a seed is never used twice.
    seed: Mapped[str | None] = mapped_column(String(64), unique=True)
    commitment: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    drawn_at: Mapped[datetime | None]


class GiveawayEntry(Base):
    """One viewer identity (account or guest) in a giveaway; its id is what the draw sorts."""

    __tablename__ = "giveaway_entries"
    __table_args__ = (UniqueConstraint("giveaway_id", "viewer_kind", "viewer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    giveaway_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("giveaways.id", ondelete="CASCADE"))
    viewer_kind: Mapped[str] = mapped_column(String(8))
    viewer_id: Mapped[uuid.UUID]
    # The name shown when the entry wins ("" for a guest without a nickname).
    viewer_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class GiveawayRound(Base):
    """One draw (round 0) or redraw of a giveaway, with the eligible list it drew from, as published."""

    __tablename__ = "giveaway_rounds"

    giveaway_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("giveaways.id", ondelete="CASCADE"), primary_key=True)
    round: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    prizes: Mapped[int]
    eligible: Mapped[list[str]] = mapped_column(JSON)
    drawn_at: Mapped[datetime]


class GiveawayWinner(Base):
    """A prize won by an entry in a round, and its claim."""

    __tablename__ = "giveaway_winners"
    __table_args__ = (UniqueConstraint("giveaway_id", "entry_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    giveaway_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("giveaways.id", ondelete="CASCADE"))
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("giveaway_entries.id", ondelete="CASCADE"))
    round: Mapped[int]
    position: Mapped[int]  # the order it was picked in, within its round
    claim_deadline: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claim: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The round that drew again for this prize once its deadline passed unclaimed.
    redrawn_in: Mapped[int | None]
    # When the winner was emailed their claim link (or found to have given no email).
    told_at: Mapped[datetime | None]
