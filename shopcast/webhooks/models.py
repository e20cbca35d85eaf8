"""Tables of webhooks: the brand's endpoints. Their deliveries are outbox messages of kind "webhook"
(shopcast/outbox), addressed to the endpoint's id."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class WebhookEndpoint(Base):
    """Where the brand's shop hears of what happens in Shopcast, and which events it wants."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool]
    # Why it was turned off when Shopcast did it (the endpoint answered 410 Gone); None otherwise.
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # Kept as given to the brand (whsec_…): HMAC signing needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(100))
    # The secret before the last rotation, still signing beside the new one until `previous_until`.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
