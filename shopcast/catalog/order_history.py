"""An order's history: each status change with when and who made it, and what its buyer was emailed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import order_access as access
from shopcast.catalog.models import Order, OrderStatusChange
from shopcast.catalog.order_schemas import OrderHistory, StatusChangeOut
from shopcast.core.security import Principal
from shopcast.emails import service as emails

_FOLLOWING = ("pending_payment", "paid", "fulfilled", "cancelled")
# A member of the brand's staff, or the brand's shop confirming a payment it took.
ChangeMaker = Principal | Literal["brand_shop"]


def record(session: AsyncSession, order_id: uuid.UUID, status: str, *, at: datetime, by: ChangeMaker) -> None:
    """Note, in the caller's transaction, that the order became `status`."""
    staff = by != "brand_shop"
    session.add(
        OrderStatusChange(
            order_id=order_id,
            status=status,
            at=at,
            by_kind="staff" if staff else "brand_shop",
            by_user_id=by.id if isinstance(by, Principal) else None,
            by_name=by.name if isinstance(by, Principal) else None,
        )
    )


async def order_history(session: AsyncSession, order: Order) -> OrderHistory:
    """The order's changes, from the order placed, and its emails, oldest first (the caller checks who asks)."""
    rows = list(
        await session.scalars(
            select(OrderStatusChange).where(OrderStatusChange.order_id == order.id).order_by(OrderStatusChange.at)
        )
    )
    changes = [StatusChangeOut(status="pending_payment", at=order.created_at, by="buyer", by_name=order.name)]
    changes += [
        StatusChangeOut(status=row.status, at=row.at, by=row.by_kind, by_name=row.by_name)  # type: ignore[arg-type]
        for row in rows
    ]
    # Orders moved on before the changes were kept say when, not who.
    kept = {row.status for row in rows}
    for status, at in (("paid", order.paid_at), ("fulfilled", order.fulfilled_at), ("cancelled", order.cancelled_at)):
        if at is not None and status not in kept:
            changes.append(StatusChangeOut(status=status, at=at, by=None, by_name=None))  # type: ignore[arg-type]
    # Two changes in the same instant are in the order the statuses follow one another.
    changes.sort(key=lambda change: (change.at, _FOLLOWING.index(change.status)))
    sent = await emails.emails_about(session, brand_id=order.brand_id, about=f"order:{order.id}")
    return OrderHistory(changes=changes, emails=sent)


async def get_history(session: AsyncSession, *, actor: Principal | None, order_id: uuid.UUID) -> OrderHistory:
    """An order's status changes and emails (managers of its brand)."""
    order = await access.managed_order(session, actor=actor, order_id=order_id)
    return await order_history(session, order)
