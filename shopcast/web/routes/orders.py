"""The brand's orders over HTTP, for its managers: the list with its filters, their totals, the CSV file,
and an order's history. An order is moved on in routes/shop.py."""

from __future__ import annotations

import uuid

from shopcast.catalog import order_export, order_history, order_list
from shopcast.catalog.order_schemas import OrderFilters, OrderHistory, OrdersQuery, OrderTotals
from shopcast.catalog.schemas import OrderOut
from shopcast.web.api import Api, Call, Raw

api = Api()


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/orders",
    summary="The brand's orders the filters keep, newest first, a page at a time (managers)",
    tag="orders",
    response=list[OrderOut],
    access="signed-in",
)
async def list_orders(call: Call, brand_slug: str, query: OrdersQuery) -> list[OrderOut]:
    return await order_list.list_orders(
        call.session, actor=call.actor, brand_slug=brand_slug, query=query, now=call.now()
    )


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/orders/totals",
    summary="How many orders the filters keep, their units and revenue per currency (managers)",
    tag="orders",
    response=OrderTotals,
    access="signed-in",
)
async def order_totals(call: Call, brand_slug: str, query: OrderFilters) -> OrderTotals:
    return await order_list.order_totals(call.session, actor=call.actor, brand_slug=brand_slug, filters=query)


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/orders.csv",
    summary="The orders the filters keep as a CSV file, one row per order line (managers)",
    tag="orders",
    produces="text/csv",
    access="signed-in",
)
async def export_orders(call: Call, brand_slug: str, query: OrderFilters) -> Raw:
    name, body = await order_export.export_orders(
        call.session, actor=call.actor, brand_slug=brand_slug, filters=query, now=call.now()
    )
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}
    return Raw(body, "text/csv; charset=utf-8", headers)


@api.route(
    "GET",
    "/api/v1/orders/{order_id}/history",
    summary="An order's status changes (when, who) and its emails to the buyer (managers of its brand)",
    tag="orders",
    response=OrderHistory,
    access="signed-in",
)
async def get_order_history(call: Call, order_id: uuid.UUID) -> OrderHistory:
    return await order_history.get_history(call.session, actor=call.actor, order_id=order_id)
