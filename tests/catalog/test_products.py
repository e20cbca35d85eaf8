"""The brand's catalog through the API: managers create, edit and archive products; others may not."""

from __future__ import annotations

from typing import Any

from tests.catalog.conftest import Join, Shop
from tests.conftest import SettableClock
from tests.problems import refused

COAT = {
    "title": "Wool coat",
    "summary": "Double-breasted, knee length",
    "description": "Virgin wool.\nDry clean only.",
    "image_urls": ["https://cdn.example.com/coat-front.jpg", "https://cdn.example.com/coat-back.jpg"],
    "price": 18900,
    "compare_at_price": 24900,
    "currency": "eur",
    "variants": [
        {"sku": "COAT-S-NAVY", "options": {"Size": "S", "colour": "Navy"}, "stock": 2},
        {"sku": "COAT-M-NAVY", "options": {"size": "M", "colour": "Navy"}, "stock": 4, "price": 19900},
    ],
}


async def test_a_manager_creates_lists_edits_and_archives_a_product(shop: Shop) -> None:
    client, manager = shop.client, shop.room.manager.headers
    response = await client.post("/api/v1/brands/acme/products", json=COAT, headers=manager)
    assert response.status == 201, await response.text()
    coat = await response.json()
    assert coat["handle"] == "wool-coat" and coat["currency"] == "EUR" and not coat["archived"]
    assert (coat["price"], coat["compare_at_price"], coat["sold_out"]) == (18900, 24900, False)
    assert [(v["sku"], v["label"], v["price"], v["stock"]) for v in coat["variants"]] == [
        ("COAT-S-NAVY", "S / Navy", 18900, 2),
        ("COAT-M-NAVY", "M / Navy", 19900, 4),
    ]
    assert coat["variants"][0]["options"] == {"size": "S", "colour": "Navy"}

    listed = await (await client.get("/api/v1/brands/acme/products", headers=manager)).json()
    assert [p["title"] for p in listed] == ["Linen dress", "Wool coat"]
    assert await (await client.get(f"/api/v1/products/{coat['id']}", headers=manager)).json() == coat

    change = {"title": "Wool coat, navy", "price": 15900, "summary": None, "image_urls": []}
    response = await client.patch(f"/api/v1/products/{coat['id']}", json=change, headers=manager)
    assert response.status == 200, await response.text()
    edited = await response.json()
    assert (edited["title"], edited["price"], edited["summary"], edited["image_urls"]) == (
        "Wool coat, navy",
        15900,
        "",
        [],
    )
    assert [v["price"] for v in edited["variants"]] == [15900, 19900]  # the M keeps its own price
    card = await (await client.get(f"/api/v1/public/products/{coat['id']}")).json()
    assert card["title"] == "Wool coat, navy" and "handle" not in card

    assert (await client.delete(f"/api/v1/products/{coat['id']}", headers=manager)).status == 204
    listed = await (await client.get("/api/v1/brands/acme/products", headers=manager)).json()
    assert [p["title"] for p in listed] == ["Linen dress"]
    everything = await (await client.get("/api/v1/brands/acme/products?archived=true", headers=manager)).json()
    assert [(p["title"], p["archived"]) for p in everything] == [("Linen dress", False), ("Wool coat, navy", True)]
    await refused(await client.get(f"/api/v1/public/products/{coat['id']}"), 404, "no product")


async def test_bad_products_are_refused_with_the_reason_and_nothing_is_saved(shop: Shop) -> None:
    client, manager = shop.client, shop.room.manager.headers
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"price": -1}, 422, "price: Input should be greater than or equal to 0"),
        ({"price": 100_000_001}, 422, "price: Input should be less than or equal to 100000000"),
        ({"compare_at_price": 18900}, 422, "compare_at_price: must be above the price"),
        ({"compare_at_price": 9900}, 422, "compare_at_price: must be above the price"),
        ({"variants": [{"sku": "COAT-1"}, {"sku": " COAT-1 "}]}, 422, "variants: each variant needs its own sku"),
        ({"variants": []}, 422, "variants: List should have at least 1 item"),
        ({"variants": [{"sku": "COAT-1", "stock": -2}]}, 422, "variants.0.stock"),
        ({"currency": "USD"}, 422, "currency: the brand sells in EUR"),
        ({"currency": "euro"}, 422, "currency: String should match pattern"),
        ({"image_urls": ["javascript:alert(1)"]}, 422, "image_urls.0: must be an https address"),
        ({"image_urls": ["cdn.example.com/coat.jpg"]}, 422, "image_urls.0: must be an https address"),
        ({"image_urls": ["http://cdn.example.com/coat.jpg"]}, 422, "image_urls.0: must be an https address"),
        ({"title": "   "}, 422, "title: String should have at least 1 character"),
        ({"handle": "Wool Coat!"}, 422, "handle: String should match pattern"),
        ({"handle": "linen-dress"}, 409, "the brand already has a product 'linen-dress'"),
        ({"variants": [{"sku": "COAT-1"}, {"sku": "DRESS-M"}]}, 409, "sku already used by another product: DRESS-M"),
    ]
    for change, status, reason in cases:
        response = await client.post("/api/v1/brands/acme/products", json={**COAT, **change}, headers=manager)
        await refused(response, status, reason)

    dress = f"/api/v1/products/{shop.product['id']}"
    for change, status, reason in [
        ({"price": 7000}, 422, "compare_at_price: must be above the price"),
        ({"title": None}, 422, "title: may not be empty"),
        ({"price": -5}, 422, "price: Input should be greater than or equal to 0"),
        ({"image_urls": ["ftp://cdn.example.com/dress.jpg"]}, 422, "image_urls.0: must be an https address"),
        ({"variants": [{"sku": "DRESS-XL", "stock": 1}, {"sku": "COAT-1"}]}, 422, "COAT-1"),
    ]:
        if "COAT-1" in reason:  # another product's sku: made first, so the dress's PATCH clashes with it
            coat = {**COAT, "variants": [{"sku": "COAT-1", "stock": 1}]}
            assert (await client.post("/api/v1/brands/acme/products", json=coat, headers=manager)).status == 201
            status, reason = 409, "sku already used by another product: COAT-1 (product wool-coat)"
        await refused(await client.patch(dress, json=change, headers=manager), status, reason)

    # Nor can the brand switch currency under its priced products.
    usd = {"currency": "USD", "pickup_stores": []}
    response = await client.put("/api/v1/brands/acme/commerce", json=usd, headers=manager)
    await refused(response, 422, "currency: the brand's products are priced in EUR")

    listed = await (await client.get("/api/v1/brands/acme/products", headers=manager)).json()
    assert [p["title"] for p in listed] == ["Linen dress", "Wool coat"]
    assert listed[0] == shop.product  # every refused change left the dress as it was
    assert [v["sku"] for v in listed[1]["variants"]] == ["COAT-1"]


async def test_only_the_brands_managers_edit_its_catalog(shop: Shop) -> None:
    client, room = shop.client, shop.room
    dress = f"/api/v1/products/{shop.product['id']}"
    lea = await shop.guest()
    for who, status, reason in [
        (room.host.headers, 403, "this needs the manager role; you are host"),
        (room.moderator.headers, 403, "this needs the manager role; you are moderator"),
        (lea, 403, "guests cannot do this"),
        ({}, 401, "sign in first"),
    ]:
        await refused(await client.post("/api/v1/brands/acme/products", json=COAT, headers=who), status, reason)
        await refused(await client.patch(dress, json={"price": 100}, headers=who), status, reason)
        await refused(await client.delete(dress, headers=who), status, reason)
    # The host reads the catalog to build the lineup; viewers read only the public card.
    listed = await client.get("/api/v1/brands/acme/products", headers=room.host.headers)
    assert [p["id"] for p in await listed.json()] == [shop.product["id"]]
    await refused(await client.get("/api/v1/brands/acme/products", headers=lea), 403, "guests cannot do this")

    rival = await shop.rival()
    theirs = rival.manager.headers
    for response in [
        await client.get(dress, headers=theirs),
        await client.patch(dress, json={"price": 100}, headers=theirs),
        await client.delete(dress, headers=theirs),
        await client.get("/api/v1/brands/acme/products", headers=theirs),
        await client.post("/api/v1/brands/acme/products", json=COAT, headers=theirs),
        await client.get(f"/api/v1/products/{rival.product['id']}", headers=room.manager.headers),
    ]:
        await refused(response, 403, "you have no role in this brand")
    # The same sku may exist in two brands: skus are the brand's own.
    response = await client.post(
        "/api/v1/brands/globex/products",
        json={"title": "Linen dress", "price": 100, "variants": [{"sku": "DRESS-M"}]},
        headers=theirs,
    )
    assert response.status == 201, await response.text()
    assert await (await client.get(dress, headers=room.manager.headers)).json() == shop.product


async def test_an_archived_product_leaves_the_lineup_and_the_shop(shop: Shop) -> None:
    client, room = shop.client, shop.room
    coat = await (await client.post("/api/v1/brands/acme/products", json=COAT, headers=room.manager.headers)).json()
    lineup = f"/api/v1/episodes/{shop.episode_id}/lineup"
    response = await client.put(
        lineup, json={"product_ids": [coat["id"], shop.product["id"]]}, headers=room.host.headers
    )
    assert [p["title"] for p in await response.json()] == ["Wool coat", "Linen dress"]

    assert (await client.delete(f"/api/v1/products/{coat['id']}", headers=room.manager.headers)).status == 204
    public = await (await client.get(f"/api/v1/public/episodes/{shop.episode_id}/lineup")).json()
    assert [p["title"] for p in public] == ["Linen dress"]
    await refused(await client.get(f"/api/v1/public/products/{coat['id']}"), 404, "no product")
    pin = {"product_id": coat["id"]}
    response = await client.post(f"/api/v1/episodes/{shop.episode_id}/pin", json=pin, headers=room.host.headers)
    await refused(response, 404, "no product")
    body = {"variant_id": coat["variants"][0]["id"], "episode_id": shop.episode_id}
    response = await client.post("/api/v1/brands/acme/cart/items", json=body, headers=await shop.guest())
    await refused(response, 409, "Wool coat is no longer for sale")
    response = await client.put(lineup, json={"product_ids": [coat["id"]]}, headers=room.host.headers)
    await refused(response, 422, "not products of this brand on sale")


async def test_variants_are_changed_by_sku_and_added(shop: Shop, join: Join) -> None:
    client, manager = shop.client, shop.room.manager.headers
    await client.put(
        f"/api/v1/episodes/{shop.episode_id}/lineup",
        json={"product_ids": [shop.product["id"]]},
        headers=shop.room.host.headers,
    )
    lea = await join("Lea")
    change = {
        "variants": [
            {"sku": "DRESS-L", "options": {"size": "L"}, "stock": 4},
            {"sku": "DRESS-XL", "options": {"size": "XL"}, "stock": 2, "price": 5490},
        ]
    }
    response = await client.patch(f"/api/v1/products/{shop.product['id']}", json=change, headers=manager)
    assert response.status == 200, await response.text()
    edited = await response.json()
    assert [(v["sku"], v["label"], v["stock"], v["price"], v["sold_out"]) for v in edited["variants"]] == [
        ("DRESS-S", "S", 5, 4990, False),
        ("DRESS-M", "M", 3, 4990, False),
        ("DRESS-L", "L", 4, 4990, False),
        ("DRESS-XL", "XL", 2, 5490, False),
    ]
    assert edited["variants"][2]["id"] == shop.variant("L")["id"]  # the same variant, in carts and orders too
    assert await shop.stock("L") == 4
    heard = [await lea.wait_for("stock:changed") for _ in range(2)]  # the two changed variants, in any order
    assert {e["variant_id"]: (e["product_id"], e["stock"], e["sold_out"]) for e in heard} == {
        shop.variant("L")["id"]: (shop.product["id"], 4, False),
        edited["variants"][3]["id"]: (shop.product["id"], 2, False),
    }

    # Restocking names the sku and the stock: the size and the price stay as they were.
    restock = {"variants": [{"sku": "DRESS-XL", "stock": 6}, {"sku": "DRESS-S", "stock": 9}]}
    response = await client.patch(f"/api/v1/products/{shop.product['id']}", json=restock, headers=manager)
    restocked = (await response.json())["variants"]
    assert [(v["sku"], v["label"], v["stock"], v["price"]) for v in restocked] == [
        ("DRESS-S", "S", 9, 4990),
        ("DRESS-M", "M", 3, 4990),
        ("DRESS-L", "L", 4, 4990),
        ("DRESS-XL", "XL", 6, 5490),
    ]
    twice = {"variants": [{"sku": "DRESS-S", "stock": 1}, {"sku": "DRESS-S", "stock": 2}]}
    response = await client.patch(f"/api/v1/products/{shop.product['id']}", json=twice, headers=manager)
    await refused(response, 422, "variants: each variant needs its own sku")
    assert await shop.stock("S") == 9

    # A size that sells out again is shown sold out; the whole product only when every size is.
    zero = {"variants": [{"sku": v["sku"], "options": v["options"], "stock": 0} for v in edited["variants"]]}
    emptied = await (await client.patch(f"/api/v1/products/{shop.product['id']}", json=zero, headers=manager)).json()
    assert emptied["sold_out"] and all(v["sold_out"] for v in emptied["variants"])
    assert len(emptied["variants"]) == 4


async def test_an_archived_product_keeps_its_orders_and_once_restored_is_on_sale_again(
    shop: Shop, clock: SettableClock
) -> None:
    client, room = shop.client, shop.room
    manager = room.manager.headers
    lea = await shop.guest()
    order = await shop.buy(lea, "before-archiving")
    dress = f"/api/v1/products/{shop.product['id']}"
    assert (await client.delete(dress, headers=manager)).status == 204
    seen = await shop.order_seen(lea, order["id"])
    assert [(i["title"], i["sku"], i["quantity"]) for i in seen["items"]] == [("Linen dress", "DRESS-S", 1)]
    await refused(await shop.add(lea, "M"), 409, "Linen dress is no longer for sale")

    rival = await shop.rival()
    for who, status, reason in [
        (room.host.headers, 403, "this needs the manager role; you are host"),
        (lea, 403, "guests cannot do this"),
        (rival.manager.headers, 403, "you have no role in this brand"),
        ({}, 401, "sign in first"),
    ]:
        await refused(await client.post(f"{dress}/restore", headers=who), status, reason)
    unknown = "/api/v1/products/8d4f2d55-3f4c-4d7e-9a55-7d8c9f0a1b2c/restore"
    await refused(await client.post(unknown, headers=manager), 404, "no product")
    await refused(await client.get(f"/api/v1/public/products/{shop.product['id']}"), 404, "no product")

    response = await client.post(f"{dress}/restore", headers=manager)
    assert response.status == 200, await response.text()
    restored = await response.json()
    assert not restored["archived"] and restored["title"] == "Linen dress"
    assert [v["stock"] for v in restored["variants"]] == [4, 3, 0]  # the unit sold before stays sold
    listed = await (await client.get("/api/v1/brands/acme/products", headers=manager)).json()
    assert [p["id"] for p in listed] == [shop.product["id"]]
    assert (await client.get(f"/api/v1/public/products/{shop.product['id']}")).status == 200
    assert (await shop.add(lea, "M")).status == 201
    lineup = {"product_ids": [shop.product["id"]]}
    response = await client.put(f"/api/v1/episodes/{shop.episode_id}/lineup", json=lineup, headers=room.host.headers)
    assert response.status == 200, await response.text()
    # Restoring what is on sale changes nothing.
    clock.advance(minutes=5)
    again = await client.post(f"{dress}/restore", headers=manager)
    assert again.status == 200 and (await again.json())["updated_at"] == restored["updated_at"]
