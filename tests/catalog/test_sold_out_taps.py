"""The tap storm, as the player taps: the room's `cart:add` on a size known to be sold out is answered
from memory in the viewer's language, a restock (here or through another process, heard in the
room) makes it buyable again at once, and many taps at once sell exactly the units on sale."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from shopcast.web.app import create_app
from tests.catalog.conftest import Shop
from tests.chat.conftest import Join
from tests.conftest import NoDns, SettableClock, make_settings
from tests.live_room import Viewer
from tests.statements import statements_sent

BUYERS = 40
UNITS = 8


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    # Every buyer is a guest from the same test address: let them all in.
    return make_settings(tmp_path, guest_max_per_window=BUYERS + 10, **backend)


async def _tap(viewer: Viewer, shop: Shop, size: str, quantity: int = 1) -> Any:
    request = {"episode_id": shop.episode_id, "variant_id": shop.variant(size)["id"], "quantity": quantity}
    return await viewer.call("cart:add", request)


async def _restock(shop: Shop, size: str, units: int, client: Any = None) -> None:
    """The brand's manager sets the size's stock (through `client`, this process unless told)."""
    body = {"variants": [{"sku": shop.variant(size)["sku"], "stock": units}]}
    response = await (client or shop.client).patch(
        f"/api/v1/products/{shop.product['id']}", json=body, headers=shop.room.manager.headers
    )
    assert response.status == 200, await response.text()


async def test_a_tap_on_a_sold_out_size_is_refused_from_memory_until_the_manager_restocks(
    shop: Shop, join: Join
) -> None:
    lea, max_ = await join("Léa", lang="fr"), await join("Max")
    await shop.pin()
    assert (await _tap(lea, shop, "M", 3))["ok"]  # the last three
    await max_.wait_for("stock:changed", variant_id=shop.variant("M")["id"], stock=0)

    with statements_sent(shop.client, "variants") as sent:
        in_french, in_english = await _tap(lea, shop, "M"), await _tap(max_, shop, "M")
    assert sent == []  # nothing asked of the database: the process knew
    assert in_french["error"]["detail"] == "épuisé\N{NO-BREAK SPACE}: Linen dress (M)", in_french
    assert in_french["error"]["title"] == "Impossible dans l\N{RIGHT SINGLE QUOTATION MARK}état actuel"
    assert in_english["error"]["detail"] == "sold out: Linen dress (M)"
    for refused in (in_french, in_english):
        error = refused["error"]
        assert (refused["ok"], error["status"], error["type"]) == (False, 409, "urn:shopcast:problem:conflict")
        assert (error["variant_id"], error["available"]) == (shop.variant("M")["id"], 0)

    # Two pieces back on the shelf: the very next tap gets one (the app's clock has not moved).
    await _restock(shop, "M", 2)
    added = await _tap(max_, shop, "M")
    assert added["ok"], added
    assert [(i["variant_id"], i["held_quantity"]) for i in added["cart"]["items"]] == [(shop.variant("M")["id"], 1)]


@pytest.mark.parametrize("backend", ["postgresql+redis"], indirect=True)
async def test_another_process_learns_of_the_sold_out_size_and_of_its_restock_from_the_room(
    shop: Shop, join: Join, settings: Settings, clock: SettableClock, aiohttp_client: Any
) -> None:
    other = await aiohttp_client(create_app(settings, clock=clock, resolver=NoDns()))
    max_ = Viewer()
    await max_.connect(other, (await shop.guest("Max"))["Authorization"][7:])
    try:
        assert (await max_.call("join", {"episode_id": shop.episode_id}))["ok"]
        lea = await join("Lea")
        await shop.pin()
        assert (await _tap(max_, shop, "M"))["ok"]  # through the other process: 2 left

        # Lea takes the last two through this process; the other one hears it in the room.
        assert (await _tap(lea, shop, "M", 2))["ok"]
        await max_.wait_for("stock:changed", variant_id=shop.variant("M")["id"], stock=0)
        with statements_sent(other, "variants") as sent:
            refused = await _tap(max_, shop, "M")
        assert (refused["error"]["status"], refused["error"]["detail"]) == (409, "sold out: Linen dress (M)")
        assert sent == []  # the other process never read the size at zero itself

        # A piece back through this process: the other sells it at once, having heard it.
        await _restock(shop, "M", 1)
        await max_.wait_for("stock:changed", variant_id=shop.variant("M")["id"], stock=1)
        added = await _tap(max_, shop, "M")
        assert added["ok"], added
        assert added["cart"]["items"][0]["held_quantity"] == 2
    finally:
        await max_.sio.disconnect()


async def test_many_taps_at_once_sell_exactly_the_units_on_sale(shop: Shop, join: Join) -> None:
    body = {"handle": "flash-bag", "title": "Flash bag", "price": 9900, "variants": [{"sku": "BAG-1", "stock": UNITS}]}
    response = await shop.client.post("/api/v1/brands/acme/products", json=body, headers=shop.room.manager.headers)
    assert response.status == 201, await response.text()
    bag = await response.json()
    await shop.pin(bag["id"])
    viewers = [await join(f"Buyer {n}") for n in range(BUYERS)]

    request = {"episode_id": shop.episode_id, "variant_id": bag["variants"][0]["id"]}
    acks = await asyncio.gather(*(viewer.call("cart:add", request) for viewer in viewers))

    sold = [ack for ack in acks if ack["ok"]]
    assert len(sold) == UNITS
    assert all(ack["cart"]["items"][0]["held_quantity"] == 1 for ack in sold)
    refusals = {(ack["error"]["status"], ack["error"]["detail"]) for ack in acks if not ack["ok"]}
    assert refusals == {(409, "sold out: Flash bag (One size)")}
    card = await (await shop.client.get(f"/api/v1/public/products/{bag['id']}")).json()
    assert (card["variants"][0]["stock"], card["sold_out"]) == (0, True)
