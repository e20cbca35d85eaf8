"""The orders the filters keep as a CSV file for a spreadsheet: one row per order line.

UTF-8 with a byte order mark (Excel reads the file as UTF-8 only with it), comma-separated, amounts in
major units with a dot ("49.90"), times in UTC ("2026-09-20 10:00:00", which spreadsheets read as a date
and time). A cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return, like a buyer named "=HYPERLINK(…)") starts with a ' instead, so it stays text. At most
EXPORT_MAX_ORDERS orders in one file: the file is made in memory, inside the request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import order_access as access
from shopcast.catalog.models import Order, OrderLine
from shopcast.catalog.order_list import NEWEST_FIRST, matching
from shopcast.catalog.order_schemas import OrderFilters
from shopcast.catalog.products import options_said
from shopcast.core.errors import InvalidInput, Number
from shopcast.core.security import Principal
from shopcast.core.spreadsheet import Sheet
from shopcast.live import service as live

EXPORT_MAX_ORDERS = 10_000
COLUMNS = (
    "order_number",
    "order_id",
    "placed_at_utc",
    "status",
    "buyer_name",
    "buyer_email",
    "shipping_method",
    "ship_to",
    "payment",
    "paid_at_utc",
    "fulfilled_at_utc",
    "cancelled_at_utc",
    "episode",
    "episode_starts_at_utc",
    "sku",
    "product",
    "variant",
    "quantity",
    "unit_price",
    "deal_quantity",
    "deal_price",
    "line_total",
    "currency",
    "order_shipping",
    "order_tax",
    "order_tax_included",
    "order_total",
)


def amount(minor: int | None, currency: str) -> str:
    """4990 EUR → "49.90"; 500 JPY → "500"."""
    if minor is None:
        return ""
    digits = get_currency_precision(currency)
    if digits == 0:
        return str(minor)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}"


def utc(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M:%S")


def ship_to(order: Order) -> str:
    """The delivery address, or the pickup store, on one line."""
    if order.pickup_store:
        return ", ".join(filter(None, (order.pickup_store.get("name"), order.pickup_store.get("address"))))
    place = order.shipping_address or {}
    town = " ".join(filter(None, (place.get("postal_code"), place.get("city"))))
    return ", ".join(filter(None, (place.get("line1"), place.get("line2"), town, place.get("country"))))


def _row(order: Order, line: OrderLine, episodes: dict[uuid.UUID, tuple[str, datetime]]) -> Iterable[Any]:
    episode_title, episode_start = episodes.get(line.episode_id, ("", None)) if line.episode_id else ("", None)
    money = order.currency
    values = (
        order.number,
        order.id,
        utc(order.created_at),
        order.status,
        order.name,
        order.email,
        order.shipping_method,
        ship_to(order),
        order.payment_provider,
        utc(order.paid_at),
        utc(order.fulfilled_at),
        utc(order.cancelled_at),
        episode_title,
        utc(episode_start),
        line.sku,
        line.title,
        options_said(line.label),
        line.quantity,
        amount(line.unit_price, money),
        line.deal_quantity,
        amount(line.deal_price, money),
        amount(line.line_total, money),
        money,
        amount(order.shipping_total, money),
        amount(order.tax_total, money),
        "yes" if order.tax_included else "no",
        amount(order.total, money),
    )
    return values


async def export_orders(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, filters: OrderFilters, now: datetime
) -> tuple[str, bytes]:
    """The file's name and its bytes, newest order first, each order's lines in the buyer's order (managers)."""
    brand = await access.managed_brand(session, actor=actor, brand_slug=brand_slug)
    conditions = matching(brand.id, filters)
    count = await session.scalar(select(func.count()).select_from(Order).where(*conditions))
    if (count or 0) > EXPORT_MAX_ORDERS:
        raise InvalidInput("errors.orders.too_many_to_export", count=Number(count), most=Number(EXPORT_MAX_ORDERS))
    bought_in = select(OrderLine.episode_id).distinct().join(Order, Order.id == OrderLine.order_id).where(*conditions)
    episode_ids = {episode_id for episode_id in await session.scalars(bought_in) if episode_id is not None}
    episodes = await live.episode_names(session, episode_ids=episode_ids)
    sheet = Sheet()
    sheet.row(COLUMNS)
    rows = await session.stream(
        select(Order, OrderLine)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*conditions)
        .order_by(*NEWEST_FIRST, OrderLine.position)
        .execution_options(yield_per=500)
    )
    async for order, line in rows:
        sheet.row(_row(order, line, episodes))
    return f"orders-{brand.slug}-{now:%Y-%m-%d}.csv", sheet.bytes()
