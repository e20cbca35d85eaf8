"""Flash deals as the host runs them and viewers live them: stopped early, ended by an unpin, units
given back from carts, prices that are no discount, and pins outside the live refused."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.catalog.conftest import Shop
from tests.chat.conftest import Join
from tests.problems import refused

CART = "/api/v1/brands/acme/cart/items"


async def _add(viewer: Any, shop: Shop, size: str = "S", quantity: int = 1) -> dict[str, Any]:
    ack = await viewer.call(
        "cart:add", {"episode_id": shop.episode_id, "variant_id": shop.variant(size)["id"], "quantity": quantity}
    )
    assert ack["ok"], ack
    return ack["cart"]


async def _start_deal(shop: Shop, **deal: int) -> Any:
    return await shop.client.post(
        f"/api/v1/episodes/{shop.episode_id}/pin/deal",
        json={"price": 2990, "quantity": 5, "seconds": 60, **deal},
        headers=shop.room.host.headers,
    )


def _headers(viewer: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {viewer.token}"}


async def test_the_host_stops_a_deal_and_the_regular_price_is_back(shop: Shop, join: Join) -> None:
    lea, zoe = await join("Lea"), await join("Zoe")
    pinned = await shop.pin()
    assert (await _start_deal(shop)).status == 201
    assert (await _add(lea, shop))["items"][0]["unit_price"] == 2990

    response = await shop.client.delete(f"/api/v1/episodes/{shop.episode_id}/pin/deal", headers=shop.room.host.headers)
    assert response.status == 200, await response.text()
    stopped = await response.json()
    assert stopped["id"] == pinned["id"] and stopped["hidden_at"] is None  # the product stays pinned
    assert {k: stopped["deal"][k] for k in ("active", "ended_reason", "remaining")} == {
        "active": False,
        "ended_reason": "stopped",
        "remaining": 4,
    }
    for viewer in (lea, zoe):
        ended = await viewer.wait_for("deal:ended", pin_id=pinned["id"])
        assert (ended["reason"], ended["price"]) == ("stopped", 4990)
    late = (await join("Max")).ack["snapshot"]["pin"]
    assert (late["id"], late["deal"]["active"], late["deal"]["ended_reason"]) == (pinned["id"], False, "stopped")

    # Normal selling again: the regular price, stock taken as usual; Lea keeps the price she got.
    assert (await _add(zoe, shop))["items"][0]["unit_price"] == 4990
    assert await shop.stock("S") == 3
    assert (await shop.cart(_headers(lea)))["items"][0]["unit_price"] == 2990
    again = await shop.client.delete(f"/api/v1/episodes/{shop.episode_id}/pin/deal", headers=shop.room.host.headers)
    assert (await refused(again, 409, "no flash deal"))["detail"] == "no flash deal is running"

    # A unit given back after the end is back in stock, not in the ended deal.
    line = (await shop.cart(_headers(lea)))["items"][0]
    told = len(zoe.events("deal:changed"))
    assert (await shop.client.delete(f"{CART}/{line['id']}", headers=_headers(lea))).status == 200
    await zoe.wait_for("stock:changed", variant_id=shop.variant("S")["id"], stock=4)
    await zoe.settle()
    assert zoe.events("deal:changed")[told:] == []


async def test_unpinning_during_a_deal_ends_it_for_everyone(shop: Shop, join: Join) -> None:
    lea = await join("Lea")
    pinned = await shop.pin()
    assert (await _start_deal(shop)).status == 201
    hidden = await shop.client.delete(f"/api/v1/episodes/{shop.episode_id}/pin", headers=shop.room.host.headers)
    assert hidden.status == 204, await hidden.text()

    ended = await lea.wait_for("deal:ended", pin_id=pinned["id"])
    assert (ended["reason"], ended["price"]) == ("stopped", 4990)
    await lea.wait_for("pin:hidden", pin_id=pinned["id"])
    assert [e for e, _ in lea.log if e in ("deal:ended", "pin:hidden")] == ["deal:ended", "pin:hidden"]
    assert (await join("Max")).ack["snapshot"]["pin"] is None
    host, path = shop.room.host.headers, f"/api/v1/episodes/{shop.episode_id}/pin"
    for response, reason in [
        (await shop.client.delete(path, headers=host), "nothing is pinned"),
        (await shop.client.delete(f"{path}/deal", headers=host), "no flash deal is running"),
        (await _start_deal(shop), "pin a product first: the deal is on the pinned product"),
    ]:
        assert (await refused(response, 409, reason))["detail"] == reason
    (shown,) = await (await shop.client.get(f"/api/v1/public/episodes/{shop.episode_id}/pins")).json()
    assert (shown["deal"]["active"], shown["deal"]["ended_reason"]) == (False, "stopped")

    # Pinned again, the product sells at its regular price: the old deal does not come back.
    await shop.pin()
    assert (await _add(lea, shop))["items"][0]["unit_price"] == 4990
    await refused(await _start_deal(shop, price=4990), 422, "a deal must be below the regular price (4990)")


async def test_a_second_deal_on_the_same_product_is_pinned_afresh(shop: Shop, join: Join, clock: Any) -> None:
    """The replay's history keeps each deal with its own times and units."""
    lea = await join("Lea")
    first = await shop.pin()
    assert (await _start_deal(shop, quantity=2)).status == 201
    await _add(lea, shop)
    clock.advance(seconds=30)
    stopped = await shop.client.delete(f"/api/v1/episodes/{shop.episode_id}/pin/deal", headers=shop.room.host.headers)
    assert stopped.status == 200, await stopped.text()
    clock.advance(seconds=30)
    response = await _start_deal(shop, price=3490, quantity=4)
    assert response.status == 201, await response.text()
    second = await response.json()
    assert second["id"] != first["id"] and second["product"]["id"] == shop.product["id"]
    assert (second["deal"]["price"], second["deal"]["remaining"], second["deal"]["active"]) == (3490, 4, True)
    assert (await lea.wait_for("pin:shown", id=second["id"]))["deal"]["price"] == 3490
    assert (await lea.wait_for("deal:started", id=second["id"]))["deal"]["remaining"] == 4
    await lea.wait_for("pin:hidden", pin_id=first["id"])
    assert [shown["id"] for shown in lea.events("pin:shown")] == [first["id"], second["id"]]

    history = await (await shop.client.get(f"/api/v1/public/episodes/{shop.episode_id}/pins")).json()
    assert [(p["id"], p["shown_at"], p["hidden_at"]) for p in history] == [
        (first["id"], "2026-09-20T10:00:00Z", "2026-09-20T10:01:00Z"),
        (second["id"], "2026-09-20T10:01:00Z", None),
    ]
    assert [(p["deal"]["price"], p["deal"]["remaining"], p["deal"]["ended_reason"]) for p in history] == [
        (2990, 1, "stopped"),
        (3490, 4, None),
    ]
    max_ = await join("Max")
    deal = max_.ack["snapshot"]["pin"]["deal"]
    assert (deal["price"], deal["remaining"], deal["active"]) == (3490, 4, True)
    assert (await _add(max_, shop))["items"][0]["unit_price"] == 3490


async def test_units_taken_out_of_a_cart_go_back_to_the_deal(shop: Shop, join: Join) -> None:
    lea, max_, zoe = await join("Lea"), await join("Max"), await join("Zoe")
    await shop.pin()
    assert (await _start_deal(shop, quantity=3)).status == 201
    line = (await _add(lea, shop, quantity=2))["items"][0]
    assert (line["unit_price"], line["deal_quantity"]) == (2990, 2)
    assert (await zoe.wait_for("deal:changed"))["remaining"] == 1

    fewer = await shop.client.patch(f"{CART}/{line['id']}", json={"quantity": 1}, headers=_headers(lea))
    assert fewer.status == 200, await fewer.text()
    assert (await zoe.wait_for("deal:changed"))["remaining"] == 2
    gone = await shop.client.delete(f"{CART}/{line['id']}", headers=_headers(lea))
    assert gone.status == 200, await gone.text()
    assert (await zoe.wait_for("deal:changed"))["remaining"] == 3

    # Every unit given back sells again at the deal price, to someone else.
    bought = (await _add(max_, shop, quantity=3))["items"][0]
    assert (bought["unit_price"], bought["deal_quantity"], bought["line_total"]) == (2990, 3, 8970)
    assert (await zoe.wait_for("deal:ended"))["reason"] == "sold_out"
    deal = (await join("Ann")).ack["snapshot"]["pin"]["deal"]
    assert (deal["remaining"], deal["active"], deal["ended_reason"]) == (0, False, "sold_out")


async def test_many_taps_at_once_claim_exactly_the_deal_quantity(shop: Shop) -> None:
    more = {"variants": [{"sku": "DRESS-S", "options": {"size": "S"}, "stock": 30}]}
    changed = await shop.client.patch(
        f"/api/v1/products/{shop.product['id']}", json=more, headers=shop.room.manager.headers
    )
    assert changed.status == 200, await changed.text()
    await shop.pin()
    assert (await _start_deal(shop, quantity=5)).status == 201
    buyers = [await shop.guest(f"Buyer{n}") for n in range(20)]

    async def tap(headers: dict[str, str]) -> int:
        response = await shop.add(headers, "S")
        assert response.status == 201, await response.text()
        return (await response.json())["items"][0]["unit_price"]

    prices = await asyncio.gather(*(tap(headers) for headers in buyers))
    assert sorted(prices) == [2990] * 5 + [4990] * 15
    assert await shop.stock("S") == 10
    (pin,) = await (await shop.client.get(f"/api/v1/public/episodes/{shop.episode_id}/pins")).json()
    assert (pin["deal"]["remaining"], pin["deal"]["ended_reason"]) == (0, "sold_out")


async def test_asking_for_more_than_the_deal_has_left_gets_the_regular_price(shop: Shop, join: Join) -> None:
    lea, max_ = await join("Lea"), await join("Max")
    await shop.pin()
    assert (await _start_deal(shop, quantity=3)).status == 201
    assert (await _add(lea, shop, quantity=2))["items"][0]["unit_price"] == 2990
    line = (await _add(max_, shop, quantity=2))["items"][0]
    assert (line["unit_price"], line["deal_quantity"], line["line_total"]) == (4990, 0, 9980)
    (pin,) = await (await shop.client.get(f"/api/v1/public/episodes/{shop.episode_id}/pins")).json()
    assert (pin["deal"]["remaining"], pin["deal"]["active"]) == (1, True)  # still there for one more


async def test_a_deal_price_must_be_a_discount_on_every_variant(shop: Shop) -> None:
    await shop.pin()
    for price, status, reason in [
        (4990, 422, "price: a deal must be below the regular price (4990)"),
        (5990, 422, "price: a deal must be below the regular price (4990)"),
        (-100, 422, "price"),
    ]:
        await refused(await _start_deal(shop, price=price), status, reason)
    # A size sold cheaper than the product: the deal must beat that price too.
    cheaper = {"variants": [{"sku": "DRESS-S", "options": {"size": "S"}, "stock": 5, "price": 3990}]}
    changed = await shop.client.patch(
        f"/api/v1/products/{shop.product['id']}", json=cheaper, headers=shop.room.manager.headers
    )
    assert changed.status == 200, await changed.text()
    await refused(await _start_deal(shop, price=3990), 422, "price: a deal must be below the regular price (3990)")
    pin = await (await shop.client.get(f"/api/v1/public/episodes/{shop.episode_id}/pins")).json()
    assert [p["deal"] for p in pin] == [None]  # nothing started on the way
    assert (await _start_deal(shop, price=3980)).status == 201


async def test_pins_and_deals_are_refused_outside_the_live(shop: Shop, join: Join) -> None:
    lea = await join("Lea")
    await shop.pin()
    ended = await shop.client.post(f"/api/v1/episodes/{shop.episode_id}/end", headers=shop.room.host.headers)
    assert ended.status == 200, await ended.text()
    await lea.settle()
    heard = len(lea.log)
    host = shop.room.host.headers
    path = f"/api/v1/episodes/{shop.episode_id}/pin"
    for response in (
        await shop.client.post(path, json={"product_id": shop.product["id"]}, headers=host),
        await shop.client.delete(path, headers=host),
        await _start_deal(shop),
        await shop.client.delete(f"{path}/deal", headers=host),
    ):
        body = await refused(response, 409, "pins are shown during the live")
        assert body["detail"] == "the episode is ended: pins are shown during the live"
    await lea.settle()
    assert [event for event, _ in lea.log[heard:] if event.startswith(("pin:", "deal:"))] == []
    assert (await join("Max")).ack["snapshot"]["pin"] is None  # the live is over

    # Before the live too: an episode still scheduled.
    show = await shop.factory.show("acme", shop.room.manager, title="Sunday Preview")
    upcoming = (await shop.factory.episodes(show["id"], shop.room.manager))[0]
    assert upcoming["status"] == "scheduled"
    response = await shop.client.post(
        f"/api/v1/episodes/{upcoming['id']}/pin", json={"product_id": shop.product["id"]}, headers=host
    )
    await refused(response, 409, "the episode is scheduled: pins are shown during the live")


async def test_a_deal_counts_its_own_units_only(shop: Shop, join: Join) -> None:
    """Another brand's deal running at the same time loses nothing when units are claimed or given back here."""
    rival = await shop.rival()
    host = await shop.factory.staff(rival.slug, "host")
    show = await shop.factory.show(rival.slug, rival.manager)
    episode = (await shop.factory.episodes(show["id"], rival.manager))[0]["id"]
    assert (await shop.client.post(f"/api/v1/episodes/{episode}/start", headers=host.headers)).status == 200
    more = {"variants": [{"sku": "COAT-M", "stock": 10}]}
    changed = await shop.client.patch(
        f"/api/v1/products/{rival.product['id']}", json=more, headers=rival.manager.headers
    )
    assert changed.status == 200, await changed.text()
    pinned = await shop.client.post(
        f"/api/v1/episodes/{episode}/pin", json={"product_id": rival.product["id"]}, headers=host.headers
    )
    assert pinned.status == 201, await pinned.text()
    deal = {"price": 9900, "quantity": 5, "seconds": 60}
    started = await shop.client.post(f"/api/v1/episodes/{episode}/pin/deal", json=deal, headers=host.headers)
    assert started.status == 201, await started.text()
    tom = await shop.guest("Tom")
    coat = {"variant_id": rival.product["variants"][0]["id"], "episode_id": episode}
    bought = await shop.client.post(f"/api/v1/brands/{rival.slug}/cart/items", json=coat, headers=tom)
    assert (await bought.json())["items"][0]["unit_price"] == 9900

    async def rival_left() -> int:
        (pin,) = await (await shop.client.get(f"/api/v1/public/episodes/{episode}/pins")).json()
        return pin["deal"]["remaining"]

    assert await rival_left() == 4
    lea = await join("Lea")
    await shop.pin()
    assert (await _start_deal(shop)).status == 201
    line = (await _add(lea, shop))["items"][0]
    assert line["unit_price"] == 2990
    assert await rival_left() == 4
    assert (await shop.client.delete(f"{CART}/{line['id']}", headers=_headers(lea))).status == 200
    assert await rival_left() == 4
    await lea.wait_for("deal:changed", remaining=5)
    stopped = await shop.client.delete(f"/api/v1/episodes/{shop.episode_id}/pin/deal", headers=shop.room.host.headers)
    assert stopped.status == 200, await stopped.text()
    (pin,) = await (await shop.client.get(f"/api/v1/public/episodes/{episode}/pins")).json()
    assert (pin["deal"]["active"], pin["deal"]["ended_reason"], pin["deal"]["remaining"]) == (True, None, 4)


async def test_only_the_brands_hosts_and_managers_pin_and_run_deals(shop: Shop, join: Join) -> None:
    await shop.pin()
    path = f"/api/v1/episodes/{shop.episode_id}/pin"
    viewer = await shop.guest("Lea")
    for headers, reason in [
        (shop.room.moderator.headers, "this needs the manager or host role; you are moderator"),
        (viewer, "guests cannot do this: sign in with a staff account"),
        ({}, "this needs a bearer token: sign in first"),
    ]:
        status = 401 if not headers else 403
        for response in (
            await shop.client.post(path, json={"product_id": shop.product["id"]}, headers=headers),
            await shop.client.delete(path, headers=headers),
            await shop.client.post(f"{path}/deal", json={"price": 2990, "quantity": 5, "seconds": 60}, headers=headers),
            await shop.client.delete(f"{path}/deal", headers=headers),
        ):
            assert (await refused(response, status, reason))["detail"] == reason
    manager = await shop.client.post(
        f"{path}/deal", json={"price": 2990, "quantity": 5, "seconds": 60}, headers=shop.room.manager.headers
    )
    assert manager.status == 201, await manager.text()
