"""Tables of reminders: the addresses a brand may write to beyond orders, and who asked to be reminded
of which episode, with their consent."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class Contact(Base):
    """An email address in one brand's audience: reminders and cart follow-ups go to it until it
    unsubscribes (the links in those emails), then nothing of the kind ever again."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("brand_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # lower case: one contact per address, however typed
    language: Mapped[str] = mapped_column(String(8))  # of the first email it asked for
    created_at: Mapped[datetime]
    unsubscribed_at: Mapped[datetime | None]


class EpisodeReminder(Base):
    """A viewer's "Remind me" for a coming episode, with the consent they gave: when, the words the
    page showed them, in which language (their emails are written in it).

    What they were told: `reminded_for` is the start the reminder was sent for (an episode moved
    afterwards is reminded of again), `live_told_at` and `cancel_told_at` the notices sent."""

    __tablename__ = "episode_reminders"
    __table_args__ = (UniqueConstraint("episode_id", "contact_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    consent_text: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime]
    reminded_for: Mapped[datetime | None]
    live_told_at: Mapped[datetime | None]
    cancel_told_at: Mapped[datetime | None]
