"""Selling in the live room over Socket.IO: the host pins, every viewer gets the card, the last
piece goes to one of them and everyone sees it sold out; flash deals count down on the server."""

from __future__ import annotations

import uuid
from typing import Any

from tests.catalog.conftest import Shop
from tests.chat.conftest import Join
from tests.problems import refused


async def _add(viewer: Any, shop: Shop, size: str) -> Any:
    return await viewer.call("cart:add", {"episode_id": shop.episode_id, "variant_id": shop.variant(size)["id"]})


async def test_the_last_piece_goes_to_one_viewer_and_everyone_sees_it_sold_out(shop: Shop, join: Join) -> None:
    lea, max_, host = await join("Lea"), await join("Max"), await join(shop.room.host)
    pinned = await shop.pin()

    for viewer in (lea, max_, host):
        card = await viewer.wait_for("pin:shown", id=pinned["id"])
        assert card["product"]["title"] == "Linen dress"
        assert [v["stock"] for v in card["product"]["variants"]] == [5, 3, 0]
        assert card["product"]["variants"][2]["sold_out"] is True

    # Size M has 3 pieces: Lea takes two, Max the last one.
    assert (await lea.call("cart:add", {**_request(shop, "M"), "quantity": 2}))["ok"]
    bought = await _add(max_, shop, "M")
    assert bought["ok"], bought
    assert bought["cart"]["items"][0]["held_quantity"] == 1
    assert bought["cart"]["items"][0]["held_until"] is not None

    for viewer in (lea, max_, host):
        gone = await viewer.wait_for("stock:changed", variant_id=shop.variant("M")["id"], stock=0)
        assert gone["sold_out"] is False  # size S is still there
    too_late = await _add(lea, shop, "M")
    assert (too_late["ok"], too_late["error"]["status"]) == (False, 409), too_late
    assert too_late["error"]["detail"] == "sold out: Linen dress (M)"

    # A late joiner's snapshot has the pin with the stock as it is now.
    late = await join("Zoe")
    variants = late.ack["snapshot"]["pin"]["product"]["variants"]
    assert [v["stock"] for v in variants] == [5, 0, 0]


async def test_a_sold_out_size_is_refused_in_each_viewer_s_language(shop: Shop, join: Join) -> None:
    lea, max_ = await join("Léa", lang="fr"), await join("Max")
    await shop.pin()
    refused = await _add(lea, shop, "L")  # size L has none left
    assert refused["error"]["detail"] == "épuisé\N{NO-BREAK SPACE}: Linen dress (L)", refused
    assert refused["error"]["title"] == "Impossible dans l\N{RIGHT SINGLE QUOTATION MARK}état actuel"
    # What programs read stays as it is.
    assert (refused["error"]["type"], refused["error"]["status"]) == ("urn:shopcast:problem:conflict", 409)
    assert (refused["error"]["variant_id"], refused["error"]["available"]) == (shop.variant("L")["id"], 0)
    assert (await _add(max_, shop, "L"))["error"]["detail"] == "sold out: Linen dress (L)"
    assert (await lea.call("cart:add", {**_request(shop, "M"), "quantity": 3}))["ok"]
    assert (await lea.call("cart:add", _request(shop, "M")))["error"][
        "detail"
    ] == "épuisé\N{NO-BREAK SPACE}: Linen dress (M)"


def _request(shop: Shop, size: str) -> dict[str, Any]:
    return {"episode_id": shop.episode_id, "variant_id": shop.variant(size)["id"]}


async def test_unpinning_reaches_every_viewer_and_the_history_keeps_the_times(
    shop: Shop, join: Join, clock: Any
) -> None:
    viewer = await join("Lea")
    pinned = await shop.pin()
    clock.advance(seconds=90)
    hidden = await shop.client.delete(f"/api/v1/episodes/{shop.episode_id}/pin", headers=shop.room.host.headers)
    assert hidden.status == 204
    event = await viewer.wait_for("pin:hidden", pin_id=pinned["id"])
    assert event["product_id"] == shop.product["id"]

    history = await (await shop.client.get(f"/api/v1/public/episodes/{shop.episode_id}/pins")).json()
    assert [(p["shown_at"], p["hidden_at"]) for p in history] == [("2026-09-20T10:00:00Z", "2026-09-20T10:01:30Z")]
    assert (await join("Max")).ack["snapshot"]["pin"] is None


async def test_the_bought_counter_counts_orders_placed_during_the_live(shop: Shop, join: Join) -> None:
    viewer = await join("Max")
    await shop.pin()
    lea = await shop.guest("Lea")
    assert (await shop.add(lea, "S", 2)).status == 201
    assert (await shop.order(lea, str(uuid.uuid4()))).status == 201

    sales = await viewer.wait_for("sales:bought")
    assert sales["bought"] == 2
    assert sales["products"] == {shop.product["id"]: 2}
    assert (await join("Zoe")).ack["snapshot"]["bought"] == 2


async def test_a_flash_deal_sells_its_quantity_at_its_price_then_ends(shop: Shop, join: Join) -> None:
    lea, max_, zoe = await join("Lea"), await join("Max"), await join("Zoe")
    await shop.pin()
    started = await shop.client.post(
        f"/api/v1/episodes/{shop.episode_id}/pin/deal",
        json={"price": 2990, "quantity": 2, "seconds": 60},
        headers=shop.room.host.headers,
    )
    assert started.status == 201, await started.text()
    deal = (await zoe.wait_for("deal:started"))["deal"]
    assert (deal["price"], deal["remaining"], deal["active"]) == (2990, 2, True)

    first = await _add(lea, shop, "S")
    assert first["cart"]["items"][0]["unit_price"] == 2990
    assert (await zoe.wait_for("deal:changed"))["remaining"] == 1
    second = await _add(max_, shop, "S")
    assert second["cart"]["items"][0]["unit_price"] == 2990
    ended = await zoe.wait_for("deal:ended")
    assert (ended["reason"], ended["price"]) == ("sold_out", 4990)

    # The deal is over: the server prices the next piece normally, whatever the client thinks.
    third = await _add(zoe, shop, "S")
    assert third["cart"]["items"][0]["unit_price"] == 4990


async def test_a_deal_ends_when_its_countdown_reaches_zero(shop: Shop, join: Join, clock: Any) -> None:
    viewer = await join("Lea")
    await shop.pin()
    started = await shop.client.post(
        f"/api/v1/episodes/{shop.episode_id}/pin/deal",
        json={"price": 2990, "quantity": 50, "seconds": 10},
        headers=shop.room.host.headers,
    )
    assert started.status == 201
    clock.advance(seconds=10)
    ended = await viewer.wait_for("deal:ended")  # the shop's clock notices within a second
    assert ended["reason"] == "time"
    late = (await join("Max")).ack["snapshot"]["pin"]["deal"]
    assert (late["active"], late["ended_reason"], late["remaining"]) == (False, "time", 50)
    added = await _add(viewer, shop, "S")
    assert added["cart"]["items"][0]["unit_price"] == 4990


async def test_an_expired_hold_goes_back_on_sale_for_everyone(shop: Shop, join: Join, clock: Any) -> None:
    lea, max_ = await join("Lea"), await join("Max")
    await shop.pin()
    assert (await lea.call("cart:add", {**_request(shop, "M"), "quantity": 3}))["ok"]
    await max_.wait_for("stock:changed", stock=0)
    gone = await _add(max_, shop, "M")
    assert (gone["ok"], gone["error"]["status"], gone["error"]["detail"]) == (False, 409, "sold out: Linen dress (M)")

    clock.advance(minutes=10)
    back = await max_.wait_for("stock:changed", variant_id=shop.variant("M")["id"], stock=3)
    assert back["sold_out"] is False
    assert (await _add(max_, shop, "M"))["ok"]
    cart = await (
        await shop.client.get("/api/v1/brands/acme/cart", headers={"Authorization": f"Bearer {lea.token}"})
    ).json()
    assert cart["items"][0]["held_quantity"] == 0  # still in Lea's cart, no longer set aside
    assert cart["items"][0]["available"] == 2


async def test_adding_needs_a_name_and_a_joined_room(shop: Shop, join: Join, client: Any) -> None:
    from tests.live_room import Viewer

    anonymous = Viewer()
    await anonymous.connect(client, None)
    try:
        assert (await anonymous.call("join", {"episode_id": shop.episode_id}))["ok"]
        refused = await _add(anonymous, shop, "S")
        assert refused["error"]["status"] == 401, refused
        assert refused["error"]["detail"] == "join as a guest or sign in to buy"
    finally:
        await anonymous.sio.disconnect()
    stranger = await join("Lea", episode_id=shop.episode_id)
    await stranger.call("leave", {"episode_id": shop.episode_id})
    left = await _add(stranger, shop, "S")
    assert (left["error"]["status"], left["error"]["detail"]) == (409, "join the episode first")
    wrong = await stranger.call("cart:add", {"episode_id": shop.episode_id, "variant_id": "nope"})
    assert (wrong["ok"], wrong["error"]["status"]) == (False, 422), wrong
    assert wrong["error"]["detail"].startswith("variant_id: Input should be a valid UUID")


async def test_the_studio_reads_what_the_episode_sold_and_only_the_brands_staff_may(shop: Shop, factory: Any) -> None:
    path = f"/api/v1/episodes/{shop.episode_id}/sales"

    async def sales(headers: dict[str, str]) -> dict[str, Any]:
        response = await shop.client.get(path, headers=headers)
        assert response.status == 200, await response.text()
        return await response.json()

    host = shop.room.host.headers
    assert await sales(host) == {"orders": 0, "units": 0, "revenue": 0, "currency": "EUR"}
    await shop.pin()
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    assert (await shop.add(lea, "S", 2)).status == 201
    await shop.placed(lea, str(uuid.uuid4()))
    toms = await shop.buy(tom, str(uuid.uuid4()), "M")
    assert (await shop.add(tom, "S", live=False)).status == 201  # bought outside the live: not the episode's
    await shop.placed(tom, str(uuid.uuid4()))
    price = shop.product["price"]
    assert await sales(host) == {"orders": 2, "units": 3, "revenue": 3 * price, "currency": "EUR"}
    cancelled = await shop.client.post(
        f"/api/v1/orders/{toms['id']}/status", json={"status": "cancelled"}, headers=shop.room.manager.headers
    )
    assert cancelled.status == 200, await cancelled.text()
    for who in (shop.room.manager, shop.room.moderator):
        assert await sales(who.headers) == {"orders": 1, "units": 2, "revenue": 2 * price, "currency": "EUR"}

    await factory.brand("globex")
    rival = await factory.staff("globex", "manager")
    for headers, status, reason in [
        ({}, 401, "sign in first"),
        (lea, 403, "guests cannot do this"),
        (rival.headers, 403, "you have no role in this brand"),
    ]:
        await refused(await shop.client.get(path, headers=headers), status, reason)
    await refused(await shop.client.get(f"/api/v1/episodes/{uuid.uuid4()}/sales", headers=host), 404, "no episode")
