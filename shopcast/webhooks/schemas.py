"""What managers send and read about the brand's webhook endpoints and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from shopcast.outbox.schemas import AttemptOut, MessageState
from shopcast.webhooks.events import EventType


def _distinct(events: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(events))


Events = Annotated[list[EventType], AfterValidator(_distinct)]


class EndpointIn(BaseModel):
    url: str = Field(max_length=2000, description="Where deliveries are POSTed: https://… (see the address rules).")
    description: str = Field("", max_length=200, description="What the endpoint is, for the brand's staff.")
    events: Events = Field(min_length=1, description="The events it is sent (each once).")
    enabled: bool = True


class EndpointUpdate(BaseModel):
    """Only what is sent changes."""

    url: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=200)
    events: Events | None = Field(None, min_length=1)
    enabled: bool | None = Field(None, description="True again after Shopcast turned it off (410 Gone) clears why.")


class EndpointOut(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    url: str
    description: str
    events: list[EventType]
    enabled: bool
    disabled_reason: str | None = Field(description="Why Shopcast turned it off (it answered 410 Gone), if it did.")
    previous_secret_until: datetime | None = Field(
        description="After a rotation: until when the previous secret still signs deliveries beside the new one."
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="The signing secret (whsec_…): shown here only, when made and when rotated.")


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="The delivery's webhook-id: the same on every attempt and replay.")
    endpoint_id: uuid.UUID
    event: str = Field(description="Its type: order.created, …, or webhook.test.")
    about: str | None = Field(description="What it is about: order:<id>, episode:<id>, giveaway:<id>, cart:<id>.")
    state: MessageState = Field(
        description="pending (waiting to be sent, or replayed), sending, sent (answered 2xx), failed (tried "
        "again at next_try_at) or dead (given up: last attempt, 410 Gone, or the endpoint was turned off)."
    )
    attempts: int
    next_try_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    tries: list[AttemptOut] = Field(description="Each attempt: when, how long, the HTTP status and what came back.")


class DeliveryView(DeliveryOut):
    payload: dict[str, Any] = Field(description="The body sent: {type, timestamp, data}.")


class DeliveriesQuery(BaseModel):
    state: MessageState | None = None
    limit: int = Field(50, ge=1, le=500)
