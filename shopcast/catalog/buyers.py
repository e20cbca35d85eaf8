"""What a brand knows of a viewer's email: the one they gave with their last order, else the one they
typed at checkout (for the giveaway they won, for instance)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog.models import Cart, Order


async def email_of(
    session: AsyncSession, *, brand_id: uuid.UUID, viewer_kind: str, viewer_id: uuid.UUID
) -> tuple[str, str | None] | None:
    """(email, language) the viewer (a guest or an account) gave the brand, if they gave one."""
    ordered = (
        await session.execute(
            select(Order.email, Order.language)
            .where(Order.brand_id == brand_id, Order.buyer_kind == viewer_kind, Order.buyer_id == viewer_id)
            .order_by(Order.created_at.desc())
            .limit(1)
        )
    ).first()
    if ordered is not None:
        return ordered[0], ordered[1]
    typed = (
        await session.execute(
            select(Cart.email, Cart.email_language).where(
                Cart.brand_id == brand_id,
                Cart.owner_kind == viewer_kind,
                Cart.owner_id == viewer_id,
                Cart.email.is_not(None),
            )
        )
    ).first()
    return (typed[0], typed[1]) if typed is not None else None
