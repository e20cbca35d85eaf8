"""Taps on the pin sold together: many viewers tapping "add" at once are sold in a few transactions,
exactly the units on sale, each with their own cart; a tap that cannot go with the others (its line
past the limit) is answered on its own, and the others are still sold."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from shopcast.catalog.schemas import MAX_LINE_QUANTITY
from shopcast.core.settings import Settings
from shopcast.web.context import RESOURCES
from tests.catalog.conftest import Shop
from tests.chat.conftest import Join
from tests.conftest import make_settings
from tests.statements import statements_sent

BUYERS = 30
UNITS = 8


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    # Every buyer is a guest from the same test address: let them all in.
    return make_settings(tmp_path, guest_max_per_window=BUYERS + 10, **backend)


async def _on_sale(shop: Shop, units: int) -> dict[str, Any]:
    """A new product of `units` pieces, pinned: its one variant."""
    body = {"handle": "flash-bag", "title": "Flash bag", "price": 9900, "variants": [{"sku": "BAG-1", "stock": units}]}
    response = await shop.client.post("/api/v1/brands/acme/products", json=body, headers=shop.room.manager.headers)
    assert response.status == 201, await response.text()
    bag = await response.json()
    await shop.pin(bag["id"])
    return dict(bag["variants"][0], product_id=bag["id"])


async def _stock_left(shop: Shop, bag: dict[str, Any]) -> int:
    card = await (await shop.client.get(f"/api/v1/public/products/{bag['product_id']}")).json()
    return int(card["variants"][0]["stock"])


async def test_taps_at_once_are_sold_together_each_into_its_buyers_cart(shop: Shop, join: Join) -> None:
    bag = await _on_sale(shop, UNITS)
    viewers = [await join(f"Buyer {n}") for n in range(BUYERS)]

    request = {"episode_id": shop.episode_id, "variant_id": bag["id"]}
    with statements_sent(shop.client, "UPDATE variants SET stock") as takes:
        acks = await asyncio.gather(*(viewer.call("cart:add", request) for viewer in viewers))

    sold = [(viewer, ack) for viewer, ack in zip(viewers, acks, strict=True) if ack["ok"]]
    assert len(sold) == UNITS
    assert len(takes) < UNITS  # units of several buyers taken off the shelf at once
    for viewer, ack in sold:  # each buyer's own cart: one held piece, and the cart they read later
        assert [(i["variant_id"], i["quantity"], i["held_quantity"]) for i in ack["cart"]["items"]] == [
            (bag["id"], 1, 1)
        ]
        later = await shop.cart({"Authorization": f"Bearer {viewer.token}"})
        assert (later["id"], later["item_count"]) == (ack["cart"]["id"], 1)
    assert len({ack["cart"]["id"] for _, ack in sold}) == UNITS
    refusals = {(ack["error"]["status"], ack["error"]["detail"]) for ack in acks if not ack["ok"]}
    assert refusals == {(409, "sold out: Flash bag (One size)")}
    assert await _stock_left(shop, bag) == 0


async def test_a_tap_past_its_line_limit_is_refused_alone_and_the_others_are_sold(shop: Shop, join: Join) -> None:
    bag = await _on_sale(shop, 40)
    lea, max_, zoe = await join("Lea"), await join("Max"), await join("Zoe")
    request = {"episode_id": shop.episode_id, "variant_id": bag["id"]}
    assert (await lea.call("cart:add", {**request, "quantity": MAX_LINE_QUANTITY - 1}))["ok"]

    too_many, for_max, for_zoe = await asyncio.gather(
        lea.call("cart:add", {**request, "quantity": 2}), max_.call("cart:add", request), zoe.call("cart:add", request)
    )

    assert (too_many["ok"], too_many["error"]["status"]) == (False, 422), too_many
    assert too_many["error"]["detail"] == f"quantity: at most {MAX_LINE_QUANTITY} of one item per cart"
    for ack in (for_max, for_zoe):
        assert ack["ok"], ack
        assert ack["cart"]["items"][0]["held_quantity"] == 1
    lea_cart = await shop.cart({"Authorization": f"Bearer {lea.token}"})
    assert lea_cart["items"][0]["held_quantity"] == MAX_LINE_QUANTITY - 1  # nothing of the refused tap
    assert await _stock_left(shop, bag) == 40 - (MAX_LINE_QUANTITY - 1) - 2


async def test_taps_wanting_more_than_is_left_get_what_fits_in_the_order_they_came(shop: Shop, join: Join) -> None:
    bag = await _on_sale(shop, 3)
    lea, max_, zoe = await join("Lea"), await join("Max"), await join("Zoe")
    request = {"episode_id": shop.episode_id, "variant_id": bag["id"]}

    acks = await asyncio.gather(
        lea.call("cart:add", {**request, "quantity": 2}),
        max_.call("cart:add", {**request, "quantity": 2}),
        zoe.call("cart:add", request),
    )

    held = [ack["cart"]["items"][0]["held_quantity"] if ack["ok"] else 0 for ack in acks]
    assert sum(held) <= 3 and held.count(0) == 1, acks  # two of the three sold: never more than the 3 pieces
    refused = next(ack for ack in acks if not ack["ok"])
    assert refused["error"]["status"] == 409
    assert await _stock_left(shop, bag) == 3 - sum(held)


async def test_taps_whose_batch_fails_at_the_database_are_each_sold_on_their_own(shop: Shop, join: Join) -> None:
    """A connection dropped in the middle of a batch (here: its stock update refused once) is not
    every tap's failure: nothing of the batch is written, and each tap is tried again alone."""
    bag = await _on_sale(shop, 40)
    viewers = [await join(f"Buyer {n}") for n in range(5)]
    engine = shop.client.app[RESOURCES].database.engine.sync_engine
    failed: list[str] = []

    def drop_the_first_batch(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "UPDATE variants SET stock" in statement and not failed:
            failed.append(statement)
            raise OperationalError(statement, None, ConnectionResetError("the connection was lost"))

    request = {"episode_id": shop.episode_id, "variant_id": bag["id"]}
    event.listen(engine, "before_cursor_execute", drop_the_first_batch)
    try:
        acks = await asyncio.gather(*(viewer.call("cart:add", request) for viewer in viewers))
    finally:
        event.remove(engine, "before_cursor_execute", drop_the_first_batch)

    assert failed, "no batch reached the stock"
    assert [ack["ok"] for ack in acks] == [True] * 5, acks
    for viewer, ack in zip(viewers, acks, strict=True):  # one piece each, nothing twice
        later = await shop.cart({"Authorization": f"Bearer {viewer.token}"})
        assert (later["id"], later["item_count"]) == (ack["cart"]["id"], 1)
    assert await _stock_left(shop, bag) == 35
