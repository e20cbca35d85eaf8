"""What the brand's staff read of the emails Shopcast sent, or kept for them to read."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from shopcast.outbox.schemas import AttemptOut, MessageState


class EmailOut(BaseModel):
    id: uuid.UUID = Field(description="The email's id; its Message-ID is <id@the sending domain>.")
    to: str
    to_name: str
    subject: str
    template: str = Field(
        description="Which email it is: order_confirmed, order_paid, order_ready, order_shipped, order_cancelled, "
        "episode_reminder, episode_live, episode_cancelled, cart_follow_up, giveaway_won."
    )
    language: str
    about: str | None = Field(
        description="What caused it: `order:<id>`, `reminder:<id>` (a viewer's reminder), `cart:<id>` or "
        "`giveaway:<id>`."
    )
    state: MessageState = Field(
        description="pending, sending, sent (accepted by the SMTP server, or kept in the data folder), "
        "failed (tried again at next_try_at) or dead (given up)."
    )
    attempts: int
    next_try_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class EmailHeader(BaseModel):
    name: str
    value: str


class EmailView(EmailOut):
    headers: list[EmailHeader] = Field(description="The message's headers, in order.")
    text: str = Field(description="The plain-text part.")
    html: str = Field(description="The HTML part, as sent: show it in a sandboxed frame (html_url).")
    tries: list[AttemptOut] = Field(description="Each attempt at sending it, first first.")
    kept: bool = Field(
        description="True: read from the .eml file kept in the data folder; false: composed from the outbox "
        "exactly as it is sent (with an SMTP server, or not sent yet)."
    )
    html_url: str | None = Field(
        None, description="The HTML part on its own, for a sandboxed frame: a link that works for 10 minutes."
    )


class EmailsQuery(BaseModel):
    state: MessageState | None = None
    order_id: uuid.UUID | None = Field(None, description="Only the emails about this order.")
    limit: int = Field(100, ge=1, le=500)


class EmailHtmlQuery(BaseModel):
    # A link token is some 200 characters; at 500, even one written in 4-byte characters, percent-encoded,
    # keeps the request line within what the HTTP server reads (8 KiB), so it is refused here, not there.
    token: str = Field(max_length=500, description="The link's signature, from `html_url`.")
