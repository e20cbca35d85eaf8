"""Tables of the outbox: the messages to send, and each attempt at sending one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class OutboxMessage(Base):
    """One message to send (an email, a webhook delivery), written in the transaction of its cause.

    `state`: pending (never tried), sending (a worker holds it until `next_try_at`), sent, failed
    (tried, due again at `next_try_at`) or dead (given up)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "state", "next_try_at"),
        Index("ix_outbox_messages_brand", "brand_id", "kind", "created_at"),
        Index("ix_outbox_messages_about", "about"),
        Index("ix_outbox_messages_recipient", "recipient", "created_at"),
    )

    # Stable for the message's life: an email's Message-ID, a webhook's webhook-id.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "webhook": which sender takes it
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(64))  # what it says: "order_confirmed", "order.paid"
    recipient: Mapped[str] = mapped_column(String(1000))  # an email address, an endpoint
    about: Mapped[str | None] = mapped_column(String(100))  # what caused it: "order:<id>"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(default=0)
    # `attempts` when the message was last replayed (sent again on request): its retries count from there.
    attempts_at_replay: Mapped[int] = mapped_column(default=0, server_default="0")
    next_try_at: Mapped[datetime]
    # Who holds it while it is `sending` (worker and claim): a worker whose claim ran out cannot
    # record an outcome over the next holder's.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class OutboxAttempt(Base):
    """One try at sending a message: when, how long, and what the receiver answered or what failed."""

    __tablename__ = "outbox_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    worker: Mapped[str] = mapped_column(String(100))  # the claim it ran under: "host:pid:claim"
    at: Mapped[datetime]
    duration_ms: Mapped[int]
    ok: Mapped[bool]
    detail: Mapped[str] = mapped_column(String(1000))
    status_code: Mapped[int | None]  # what an HTTP receiver answered (a webhook's endpoint)
