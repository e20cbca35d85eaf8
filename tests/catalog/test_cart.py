"""The viewer's cart through the API: holds during the live and their release, quantities, and whose cart it is."""

from __future__ import annotations

import uuid
from typing import Any

from tests.catalog.conftest import Shop
from tests.conftest import SettableClock
from tests.problems import refused

CART = "/api/v1/brands/acme/cart/items"


async def change(shop: Shop, headers: dict[str, str], item_id: str, quantity: Any) -> Any:
    return await shop.client.patch(f"{CART}/{item_id}", json={"quantity": quantity}, headers=headers)


async def test_units_added_during_the_live_are_held_for_the_viewer(shop: Shop, clock: SettableClock) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    response = await shop.add(lea, "S")
    assert response.status == 201, await response.text()
    cart = await response.json()
    assert (cart["currency"], cart["subtotal"], cart["item_count"], cart["hold_minutes"]) == ("EUR", 4990, 1, 10)
    line = cart["items"][0]
    assert {k: line[k] for k in ("title", "label", "sku", "quantity", "unit_price", "line_total")} == {
        "title": "Linen dress",
        "label": "S",
        "sku": "DRESS-S",
        "quantity": 1,
        "unit_price": 4990,
        "line_total": 4990,
    }
    assert (line["held_quantity"], line["held_until"], line["available"], line["problem"]) == (
        1,
        "2026-09-20T10:10:00Z",
        5,
        None,
    )
    assert await shop.stock("S") == 4  # off sale for everyone else while held

    cart = await (await shop.add(lea, "S")).json()
    assert [(i["quantity"], i["held_quantity"], i["held_until"]) for i in cart["items"]] == [
        (2, 2, "2026-09-20T10:10:00Z")
    ]
    clock.advance(seconds=1)  # the cart lists lines in the order added
    cart = await (await shop.add(lea, "M", live=False)).json()  # outside the live: checked, not held
    assert [(i["sku"], i["held_quantity"], i["held_until"]) for i in cart["items"]] == [
        ("DRESS-S", 2, "2026-09-20T10:10:00Z"),
        ("DRESS-M", 0, None),
    ]
    assert (cart["subtotal"], cart["item_count"]) == (14970, 3)
    assert (await shop.stock("S"), await shop.stock("M")) == (3, 3)

    ended = await shop.client.post(f"/api/v1/episodes/{shop.episode_id}/end", headers=shop.room.host.headers)
    assert ended.status == 200, await ended.text()
    cart = await (await shop.add(tom, "S")).json()  # the episode is over: nothing is held any more
    assert [(i["quantity"], i["held_quantity"]) for i in cart["items"]] == [(1, 0)]
    assert await shop.stock("S") == 3


async def test_bad_additions_are_refused_and_leave_the_cart_as_it_was(shop: Shop) -> None:
    lea = await shop.guest()
    rival = await shop.rival()
    rival_show = await shop.factory.show(rival.slug, rival.manager)
    rival_episode = (await shop.factory.episodes(rival_show["id"], rival.manager))[0]["id"]
    s = shop.variant("S")["id"]
    for body, status, reason in [
        ({"variant_id": s, "quantity": 0}, 422, "quantity: Input should be greater than or equal to 1"),
        ({"variant_id": s, "quantity": -1}, 422, "quantity: Input should be greater than or equal to 1"),
        ({"variant_id": s, "quantity": 21}, 422, "quantity: Input should be less than or equal to 20"),
        ({"variant_id": s, "quantity": "two"}, 422, "quantity"),
        ({"variant_id": s, "quantity": 1.5}, 422, "quantity"),
        ({"variant_id": "DRESS-S"}, 422, "variant_id"),
        ({"quantity": 1}, 422, "variant_id: Field required"),
        ({"variant_id": str(uuid.uuid4())}, 404, "in this brand"),
        ({"variant_id": rival.product["variants"][0]["id"]}, 404, "in this brand"),
        ({"variant_id": s, "episode_id": rival_episode}, 404, f"no episode {rival_episode} in this brand"),
        ({"variant_id": shop.variant("L")["id"], "episode_id": shop.episode_id}, 409, "sold out: Linen dress (L)"),
        ({"variant_id": shop.variant("L")["id"]}, 409, "sold out: Linen dress (L)"),
        ({"variant_id": shop.variant("M")["id"], "quantity": 4}, 409, "only 3 left of Linen dress (M)"),
        (
            {"variant_id": shop.variant("M")["id"], "quantity": 4, "episode_id": shop.episode_id},
            409,
            "only 3 left of Linen dress (M)",
        ),
    ]:
        await refused(await shop.client.post(CART, json=body, headers=lea), status, reason)
    await refused(await shop.client.post(CART, json={"variant_id": s}), 401, "sign in first")
    response = await shop.client.post("/api/v1/brands/nope/cart/items", json={"variant_id": s}, headers=lea)
    await refused(response, 404, "no brand 'nope'")
    assert (await shop.cart(lea))["items"] == []
    assert [await shop.stock(size) for size in "SML"] == [5, 3, 0]

    # At most 20 of one item per cart, however it is reached.
    more = {"variants": [{"sku": "DRESS-S", "options": {"size": "S"}, "stock": 30}]}
    response = await shop.client.patch(
        f"/api/v1/products/{shop.product['id']}", json=more, headers=shop.room.manager.headers
    )
    assert response.status == 200
    assert (await shop.add(lea, "S", 20)).status == 201
    await refused(await shop.add(lea, "S"), 422, "quantity: at most 20 of one item per cart")
    assert await shop.stock("S") == 10 and (await shop.cart(lea))["item_count"] == 20


async def test_an_expired_hold_goes_back_on_sale_and_the_line_stays_unheld(shop: Shop, clock: SettableClock) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    await shop.add(lea, "S", 2)
    assert await shop.stock("S") == 3
    clock.advance(minutes=9, seconds=59)
    assert [(i["held_quantity"], i["held_until"]) for i in (await shop.cart(lea))["items"]] == [
        (2, "2026-09-20T10:10:00Z")
    ]
    assert await shop.stock("S") == 3

    clock.advance(seconds=1)  # SHOPCAST_CART_HOLD_MINUTES (10) are over
    cart = await shop.cart(lea)
    line = cart["items"][0]
    assert (line["quantity"], line["held_quantity"], line["held_until"], line["available"], line["problem"]) == (
        2,
        0,
        None,
        5,
        None,
    )
    assert cart["subtotal"] == 9980
    assert await shop.stock("S") == 5

    await shop.add(tom, "S", 4)  # someone else buys what Lea no longer holds
    line = (await shop.cart(lea))["items"][0]
    assert (line["available"], line["problem"]) == (1, "short")
    await refused(await shop.order(lea, "lea-1"), 409, "only 1 left of Linen dress (S)")
    assert await shop.stock("S") == 1


async def test_changing_a_quantity_takes_or_gives_back_held_units(shop: Shop, clock: SettableClock) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    held = (await (await shop.add(lea, "S")).json())["items"][0]["id"]
    response = await change(shop, lea, held, 3)
    assert response.status == 200, await response.text()
    line = (await response.json())["items"][0]
    assert (line["quantity"], line["held_quantity"], line["held_until"], line["line_total"]) == (
        3,
        3,
        "2026-09-20T10:10:00Z",
        14970,
    )
    assert await shop.stock("S") == 2
    line = (await (await change(shop, lea, held, 1)).json())["items"][0]
    assert (line["quantity"], line["held_quantity"]) == (1, 1)
    assert await shop.stock("S") == 4
    await refused(await change(shop, lea, held, 6), 409, "only 5 left of Linen dress (S)")
    await refused(await change(shop, lea, held, 0), 422, "quantity: Input should be greater than or equal to 1")
    await refused(await change(shop, lea, held, 21), 422, "quantity: Input should be less than or equal to 20")
    assert await shop.stock("S") == 4

    clock.advance(seconds=1)
    unheld = (await (await shop.add(lea, "M", live=False)).json())["items"][1]["id"]
    line = (await (await change(shop, lea, unheld, 3)).json())["items"][1]
    assert (line["quantity"], line["held_quantity"]) == (3, 0)
    assert await shop.stock("M") == 3  # taken at checkout, not now
    await refused(await change(shop, lea, unheld, 4), 409, "only 3 left of Linen dress (M)")

    for response in (await change(shop, tom, held, 2), await shop.client.delete(f"{CART}/{held}", headers=tom)):
        await refused(response, 404, f"no item {held} in your cart")
    response = await shop.client.delete(f"{CART}/{held}", headers=lea)
    assert [i["sku"] for i in (await response.json())["items"]] == ["DRESS-M"]
    assert await shop.stock("S") == 5  # the held unit is back on sale
    await refused(await shop.client.delete(f"{CART}/{held}", headers=lea), 404, "in your cart")
    assert (await shop.client.delete(f"{CART}/{unheld}", headers=lea)).status == 200
    assert (await shop.cart(lea))["items"] == [] and await shop.stock("M") == 3


async def test_a_cart_is_the_viewers_own_and_follows_an_account_on_every_device(
    shop: Shop, clock: SettableClock
) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    await shop.add(lea, "S")
    leas, toms = await shop.cart(lea), await shop.cart(tom)
    assert leas["id"] is not None and leas["items"][0]["sku"] == "DRESS-S"
    # A viewer who only looks has an empty cart, and no cart is made for them.
    assert (toms["id"], toms["items"], toms["subtotal"], toms["currency"]) == (None, [], 0, "EUR")
    await shop.add(tom, "S")
    assert (await shop.cart(tom))["id"] not in (None, leas["id"])
    rival = await shop.rival()
    await shop.client.post(
        f"/api/v1/brands/{rival.slug}/cart/items", json={"variant_id": rival.product["variants"][0]["id"]}, headers=lea
    )
    elsewhere = await (await shop.client.get(f"/api/v1/brands/{rival.slug}/cart", headers=lea)).json()
    assert elsewhere["id"] not in (None, leas["id"]) and len(elsewhere["items"]) == 1  # one cart per brand

    moderator = shop.room.moderator  # staff buy like anyone, with their account
    clock.advance(minutes=1)
    phone = (await shop.factory.sign_in(moderator.email, moderator.id)).headers
    assert phone != moderator.headers
    laptop = moderator.headers
    added = await (await shop.add(phone, "M")).json()
    on_laptop = await shop.cart(laptop)
    assert on_laptop == added
    item = on_laptop["items"][0]["id"]
    assert (await change(shop, laptop, item, 2)).status == 200
    assert [(i["quantity"], i["held_quantity"]) for i in (await shop.cart(phone))["items"]] == [(2, 2)]
    assert (await shop.cart(lea))["items"][0]["sku"] == "DRESS-S"  # guests' carts untouched
    assert await shop.stock("M") == 1


async def test_adding_again_never_extends_a_hold(shop: Shop, clock: Any) -> None:
    """Otherwise a viewer could keep pieces off sale for ever, one tap every few minutes."""
    lea = await shop.guest("Lea")
    assert (await shop.add(lea, "M")).status == 201
    clock.advance(minutes=9)
    again = await (await shop.add(lea, "M")).json()
    assert again["items"][0]["held_until"] == "2026-09-20T10:10:00Z"
    item_id = again["items"][0]["id"]
    more = await shop.client.patch(f"/api/v1/brands/acme/cart/items/{item_id}", json={"quantity": 3}, headers=lea)
    assert (await more.json())["items"][0]["held_until"] == "2026-09-20T10:10:00Z"

    clock.advance(minutes=1)
    line = (await shop.cart(lea))["items"][0]
    assert (line["quantity"], line["held_quantity"], line["held_until"]) == (3, 0, None)
    assert await shop.stock("M") == 3  # every piece back on sale for the others


async def test_units_coming_back_are_on_sale_again_at_once(shop: Shop) -> None:
    """ "Sold out" is remembered for a moment to spare the database in a rush, but never past the
    return of a unit: a line made smaller, a restock, a cancelled order."""
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    line = (await (await shop.add(lea, "M", 3)).json())["items"][0]
    for _ in range(2):  # the second answer comes from memory: the same for the viewer
        body = await refused(await shop.add(tom, "M"), 409, "sold out: Linen dress (M)")
        assert body["available"] == 0
    assert (await change(shop, lea, line["id"], 2)).status == 200
    assert (await shop.add(tom, "M")).status == 201

    await refused(await shop.add(lea, "M"), 409, "sold out: Linen dress (M)")
    restock = {"variants": [{"sku": "DRESS-M", "stock": 1}]}
    response = await shop.client.patch(
        f"/api/v1/products/{shop.product['id']}", json=restock, headers=shop.room.manager.headers
    )
    assert response.status == 200, await response.text()
    assert (await shop.add(lea, "M")).status == 201

    toms = await shop.placed(tom, "tom-1")
    await refused(await shop.add(lea, "M"), 409, "sold out: Linen dress (M)")
    assert (await shop.move(toms["id"], "cancelled")).status == 200
    cart = await (await shop.add(lea, "M")).json()
    assert [(i["quantity"], i["held_quantity"], i["available"]) for i in cart["items"]] == [(4, 4, 4)]
    assert await shop.stock("M") == 0


async def test_sold_out_from_memory_never_crosses_brands(shop: Shop) -> None:
    """The "sold out" a process remembers for a second is the brand's own: asked through another
    brand, the same variant is not there at all, and its name is not told."""
    lea = await shop.guest("Lea")
    rival = await shop.rival()
    size_l = shop.variant("L")["id"]
    await refused(await shop.add(lea, "L"), 409, "sold out: Linen dress (L)")  # now remembered
    response = await shop.client.post(
        f"/api/v1/brands/{rival.slug}/cart/items", json={"variant_id": size_l}, headers=lea
    )
    body = await refused(response, 404, f"no variant {size_l} in this brand")
    assert "Linen dress" not in body["detail"]


async def test_a_viewer_sending_too_many_cart_changes_is_slowed_down_alone(shop: Shop) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    for _ in range(60):  # a script, not a person: every change counts, refused ones too
        assert (await shop.client.delete(f"{CART}/{uuid.uuid4()}", headers=lea)).status == 404
    body = await refused(await shop.add(lea, "S"), 429, "too many cart changes")
    assert body["retry_after"] >= 1
    assert (await shop.add(tom, "S")).status == 201  # everyone else buys on
    assert await shop.stock("S") == 4
