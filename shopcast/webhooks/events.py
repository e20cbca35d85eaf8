"""The events a brand's endpoints can listen to (docs/api.md, "Webhooks"), and the data of those whose
payload no other domain defines.

A delivery's body is `{type, timestamp, data}` (Standard Webhooks): `type` one of the names below,
`timestamp` when the event happened, `data` the thing it happened to:

- `order.created`, `order.paid`, `order.fulfilled`, `order.cancelled`: the order
  (`shopcast.catalog.schemas.OrderOut`, as `GET /api/v1/orders/{id}` gives it);
- `episode.live`, `episode.ended`: the episode (`shopcast.live.schemas.EpisodeOut`);
- `giveaway.drawn`: the draw or a redraw (`shopcast.contests.events.GiveawayDrawnWebhook`);
- `cart.abandoned`: the cart left (`CartAbandoned`, below);
- `webhook.test`: sent on request from the manager page (`WebhookTestData`); no endpoint subscribes to it.
"""

from __future__ import annotations

import uuid
from typing import Literal, get_args

from pydantic import BaseModel, Field

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_FULFILLED = "order.fulfilled"
ORDER_CANCELLED = "order.cancelled"
EPISODE_LIVE = "episode.live"
EPISODE_ENDED = "episode.ended"
GIVEAWAY_DRAWN = "giveaway.drawn"
CART_ABANDONED = "cart.abandoned"
WEBHOOK_TEST = "webhook.test"

EventType = Literal[
    "order.created",
    "order.paid",
    "order.fulfilled",
    "order.cancelled",
    "episode.live",
    "episode.ended",
    "giveaway.drawn",
    "cart.abandoned",
]
EVENTS: tuple[str, ...] = get_args(EventType)
# The event an order's new status is (its creation is ORDER_CREATED).
ORDER_EVENT_FOR_STATUS = {"paid": ORDER_PAID, "fulfilled": ORDER_FULFILLED, "cancelled": ORDER_CANCELLED}


class CartLine(BaseModel):
    """One line of an abandoned cart."""

    product_id: uuid.UUID
    variant_id: uuid.UUID
    sku: str
    title: str = Field(description="The product's title.")
    label: str = Field(description='The variant\'s options ("Size M"); empty for a product without options.')
    quantity: int
    unit_price: int = Field(description="In minor units of the cart's currency.")


class CartAbandoned(BaseModel):
    """Data of `cart.abandoned`: a cart with items and a known email that did not check out."""

    cart_id: uuid.UUID = Field(description="The cart, as the follow-up email links back to it.")
    email: str = Field(description="The buyer's email address.")
    name: str = Field(description="The buyer's name, if known; empty otherwise.")
    items: list[CartLine]
    subtotal: int = Field(description="The lines' total in minor units, before shipping.")
    currency: str = Field(description="ISO 4217 code.")
    episode_id: uuid.UUID | None = Field(description="The episode the cart was filled during, if any.")
    cart_url: str | None = Field(None, description="Where the buyer picks the cart up again.")


class WebhookTestData(BaseModel):
    """Data of `webhook.test`, sent when a manager asks for it."""

    endpoint_id: uuid.UUID = Field(description="The endpoint tested.")
    brand: str = Field(description="The brand's slug.")
    message: str = Field(description="Says this is a test: nothing happened in the shop.")
