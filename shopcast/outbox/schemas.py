"""What the outbox hands to senders and tells about its messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MessageState = Literal["pending", "sending", "sent", "failed", "dead"]
MessageKind = Literal["email", "webhook"]


class Outgoing(BaseModel):
    """A message a worker has claimed, as its sender gets it."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="The message's stable id: the same on every attempt.")
    kind: str
    brand_id: uuid.UUID
    topic: str
    recipient: str
    payload: dict[str, Any]
    created_at: datetime
    attempt: int = Field(description="This attempt's number, from 1.")
    attempt_since_replay: int = Field(
        description="This attempt's number since the message was queued or last replayed, from 1: what its "
        "retries count."
    )
    claimed_by: str = Field(description="The claim this attempt runs under.")


class AttemptOut(BaseModel):
    """One try at sending a message."""

    number: int = Field(description="1 for the first attempt.")
    worker: str = Field(description="Which worker made it (host:pid:claim).")
    at: datetime = Field(description="When it ended.")
    duration_ms: int
    ok: bool = Field(description="The receiver accepted the message.")
    detail: str = Field(description="What the receiver answered, or why it failed.")
    status_code: int | None = Field(None, description="The HTTP status the receiver answered, if it answered.")


class MessageOut(BaseModel):
    """A message and where it stands."""

    id: uuid.UUID
    kind: str
    brand_id: uuid.UUID
    topic: str
    recipient: str
    about: str | None
    payload: dict[str, Any]
    state: MessageState
    attempts: int
    next_try_at: datetime | None = Field(description="When it is tried next (pending, failed); None once settled.")
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    def progress(self) -> dict[str, Any]:
        """Where it stands, as the views of each kind (emails, webhook deliveries) show it."""
        return self.model_dump(include={"state", "attempts", "next_try_at", "last_error", "created_at", "sent_at"})
