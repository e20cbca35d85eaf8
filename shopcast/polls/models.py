from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class Poll(Base):
    """A question to an episode's audience: prepared as a draft, opened on air, closed with its result."""

    __tablename__ = "polls"
    __table_args__ = (
        Index("ix_polls_episode", "episode_id", "created_at"),
        Index("ix_polls_status_closes", "status", "closes_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(200))
    multiple: Mapped[bool] = mapped_column(default=False)
    allow_change: Mapped[bool] = mapped_column(default=True)
    duration_seconds: Mapped[int | None]
    quiz: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(8), default="draft")  # "draft" | "open" | "closed"
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The final tally, written once at close: {votes: {option_id: n}, voters, correct_share}.
    result: Mapped[dict | None] = mapped_column(JSON)


class PollOption(Base):
    """One answer a poll offers, possibly a product of the episode's lineup."""

    __tablename__ = "poll_options"
    __table_args__ = (Index("ix_poll_options_poll", "poll_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    poll_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(80))
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    correct: Mapped[bool] = mapped_column(default=False)


class PollVote(Base):
    """One viewer identity's vote (account or guest): one row per identity, so one vote each."""

    __tablename__ = "poll_votes"

    poll_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    voter_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "user" | "guest"
    voter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    option_ids: Mapped[list[str]] = mapped_column(JSON)
    voted_at: Mapped[datetime]
    changed_at: Mapped[datetime | None]


class PollChoice(Base):
    """An option a vote picked: counted per option for the tally."""

    __tablename__ = "poll_choices"

    poll_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True)
    voter_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    voter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    option_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"), primary_key=True)
