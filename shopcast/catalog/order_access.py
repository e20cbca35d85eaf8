"""Who may look through and move on a brand's orders: its managers. Staff of another brand are told
nothing exists (404) where an order is named by its id."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.catalog.models import Order
from shopcast.core.errors import NotFound
from shopcast.core.security import Principal, Role, authorize, signed_in


async def managed_brand(session: AsyncSession, *, actor: Principal | None, brand_slug: str) -> Brand:
    """The brand whose orders are asked for, by one of its managers."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    return brand


async def managed_order(
    session: AsyncSession, *, actor: Principal | None, order_id: uuid.UUID, for_update: bool = False
) -> Order:
    """The order, for a manager of its brand (404 for staff of another brand: not even its existence)."""
    actor = signed_in(actor)
    found = select(Order).where(Order.id == order_id)
    order = await session.scalar(found.with_for_update() if for_update else found)
    if order is None or (not actor.is_guest and actor.roles.get(order.brand_id) is None):
        raise NotFound("errors.order.none", order_id=order_id)
    authorize(actor, order.brand_id, Role.MANAGER)
    return order
