"""What the brand's managers ask of and read about its orders: the filters, a page of the list, the
totals of what the filters match, and an order's history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from shopcast.catalog.schemas import OrderStatus
from shopcast.core.errors import InvalidValue
from shopcast.core.times import Instant
from shopcast.emails.schemas import EmailOut


class OrderFilters(BaseModel):
    """Which of the brand's orders: every filter given must hold."""

    status: OrderStatus | None = None
    episode_id: uuid.UUID | None = Field(None, description="Orders with at least one line bought during this episode.")
    since: Instant | None = Field(None, description="Placed at or after this instant (with its offset).")
    until: Instant | None = Field(None, description="Placed before this instant (with its offset).")

    @model_validator(mode="after")
    def _since_before_until(self) -> OrderFilters:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidValue("errors.orders.since_not_before_until")
        return self


class OrdersQuery(OrderFilters):
    after_id: uuid.UUID | None = Field(
        None, description="The last order of the previous page: the orders listed after it (the next page)."
    )
    limit: int = Field(100, ge=1, le=500)


class Revenue(BaseModel):
    currency: str = Field(description="ISO 4217.")
    amount: int = Field(description="The orders' totals in minor units (items, shipping, added tax).")


class OrderTotals(BaseModel):
    """What the filters match, counted whole orders at a time."""

    orders: int = Field(description="Orders matching, cancelled ones included.")
    cancelled: int = Field(description="Of which cancelled.")
    units: int = Field(description="Units in the orders matching, cancelled ones left out.")
    revenue: list[Revenue] = Field(
        description="Per currency, the totals of the orders matching, cancelled ones left out (a currency whose "
        "orders were all cancelled shows 0)."
    )


ChangedBy = Literal["buyer", "staff", "brand_shop"]


class StatusChangeOut(BaseModel):
    status: OrderStatus = Field(description="What the order became: pending_payment when it was placed.")
    at: datetime
    by: ChangedBy | None = Field(
        description="Who: its buyer (placing it), a member of the brand's staff, the brand's shop (its payment "
        "confirmation); null for a change made before Shopcast kept who made them."
    )
    by_name: str | None = Field(description="Their name then (the buyer's, the staff member's).")


class OrderHistory(BaseModel):
    changes: list[StatusChangeOut] = Field(description="Oldest first, from the order placed.")
    emails: list[EmailOut] = Field(description="The emails to its buyer, oldest first, each with where it stands.")
