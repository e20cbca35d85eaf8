"""What the buyer is told by email as their order goes: confirmed with how to pay, paid, ready for
pickup or shipped, cancelled. Each is queued in the transaction that changes the order, so the email
goes if and only if the change is committed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog.payments import SHOP_LINK_HOURS
from shopcast.catalog.products import options_said
from shopcast.catalog.schemas import OrderOut
from shopcast.core.catalogues import translate
from shopcast.emails import service as emails


def template_for(order: OrderOut) -> str:
    """Which email the order's status calls for."""
    if order.status == "fulfilled":
        return "order_ready" if order.shipping.store is not None else "order_shipped"
    return {"pending_payment": "order_confirmed", "paid": "order_paid", "cancelled": "order_cancelled"}[order.status]


def how_to_pay(order: OrderOut, *, language: str) -> dict[str, str | None]:
    """The payment step of a confirmation, in the buyer's language (the order's `payment` is in English)."""
    payment, url = order.payment, None
    if payment.provider == "brand_shop" and payment.redirect_url is None:
        text = translate(language, "email.pay.ask")
    elif payment.provider == "brand_shop":
        text, url = translate(language, "email.pay.shop", hours=SHOP_LINK_HOURS), payment.redirect_url
    elif order.shipping.store is not None:
        text = translate(language, "email.pay.at_pickup", store=order.shipping.store.name)
    else:
        text = translate(language, "email.pay.invoice", number=order.number, email=order.email)
    return {"instructions": text, "url": url}


async def tell_buyer(
    session: AsyncSession, order: OrderOut, *, brand_id: uuid.UUID, brand_name: str, language: str, now: datetime
) -> uuid.UUID:
    """Queue the email the order's new status calls for, to its buyer."""
    template = template_for(order)
    shown = order.model_dump(mode="json")
    for line in shown["items"]:
        line["label"] = options_said(line["label"])
    context = {
        "name": order.name,
        "number": order.number,
        "order": shown,
        "payment": how_to_pay(order, language=language) if template == "order_confirmed" else None,
        "was_paid": order.paid_at is not None,
    }
    return await emails.queue(
        session,
        brand_id=brand_id,
        brand_name=brand_name,
        to=order.email,
        to_name=order.name,
        language=language,
        template=template,
        context=context,
        now=now,
        about=f"order:{order.id}",
    )
