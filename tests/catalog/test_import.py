"""Importing a product feed, over HTTP and with `shopcast catalog import`: good rows saved, bad rows
listed with their line and reason."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from shopcast.cli import main
from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop
from tests.conftest import SECRET
from tests.problems import refused

FEED = "\n".join(
    [
        "handle,title,summary,image_urls,price,compare_at_price,currency,sku,options,stock",
        'linen-shirt,Linen shirt,Washed linen,"https://cdn.example.com/shirt.jpg, https://cdn.example.com/shirt-2.jpg",'
        "39.90,49.90,EUR,SHIRT-S,size=S; colour=Sand,4",
        "linen-shirt,,,,39.90,,,SHIRT-M,size=M; colour=Sand,2",
        'linen-shirt,,,,"42,50",,,SHIRT-XL,size=XL; colour=Sand,0',
        "canvas-tote,Canvas tote,,,abc,,,TOTE-1,,3",
        "silk-scarf,Silk scarf,,,25.00,,,,,1",
        "leather-belt,Leather belt,,,19.00,,,BELT-M,size:M,2",
        "straw-hat,Straw hat,,,15.00,,,DRESS-S,,5",
        "sandals,Sandals,,https://cdn.example.com/sandals.jpg,59,,,SANDALS-38,size=38,1",
        "",
    ]
)
BAD_ROWS = [
    {"line": 5, "reason": "price: 'abc' is not an amount"},
    {"line": 6, "reason": "sku: String should have at least 1 character"},
    {"line": 7, "reason": "options: 'size:M' is not name=value"},
    {"line": 8, "reason": "sku already used by another product: DRESS-S (product linen-dress)"},
]


async def import_feed(shop: Shop, content: str, fmt: str = "csv", headers: dict[str, str] | None = None) -> Any:
    return await shop.client.post(
        "/api/v1/brands/acme/catalog/import",
        json={"format": fmt, "content": content},
        headers=shop.room.manager.headers if headers is None else headers,
    )


async def products(shop: Shop) -> dict[str, dict[str, Any]]:
    response = await shop.client.get("/api/v1/brands/acme/products", headers=shop.room.manager.headers)
    return {p["handle"]: p for p in await response.json()}


async def test_a_csv_feed_saves_the_good_products_and_lists_the_bad_rows(shop: Shop) -> None:
    response = await import_feed(shop, FEED)
    assert response.status == 200, await response.text()
    assert await response.json() == {"rows": 8, "created": 2, "updated": 0, "variants": 4, "errors": BAD_ROWS}

    saved = await products(shop)
    assert sorted(saved) == ["linen-dress", "linen-shirt", "sandals"]
    shirt = saved["linen-shirt"]
    assert (shirt["title"], shirt["summary"], shirt["price"], shirt["compare_at_price"]) == (
        "Linen shirt",
        "Washed linen",
        3990,
        4990,
    )
    assert shirt["image_urls"] == ["https://cdn.example.com/shirt.jpg", "https://cdn.example.com/shirt-2.jpg"]
    assert [(v["sku"], v["label"], v["price"], v["stock"], v["sold_out"]) for v in shirt["variants"]] == [
        ("SHIRT-S", "S / Sand", 3990, 4, False),
        ("SHIRT-M", "M / Sand", 3990, 2, False),
        ("SHIRT-XL", "XL / Sand", 4250, 0, True),
    ]
    assert saved["sandals"]["price"] == 5900
    assert [v["stock"] for v in saved["linen-dress"]["variants"]] == [5, 3, 0]  # the clashing row took nothing


async def test_a_french_manager_reads_the_bad_rows_in_french(shop: Shop) -> None:
    nbsp, apostrophe = "\N{NO-BREAK SPACE}", "\N{RIGHT SINGLE QUOTATION MARK}"
    french = {**shop.room.manager.headers, "Accept-Language": "fr-FR,fr;q=0.9"}
    response = await import_feed(shop, FEED, headers=french)
    assert [e["reason"] for e in (await response.json())["errors"]] == [
        f"price{nbsp}: «{nbsp}abc{nbsp}» n{apostrophe}est pas un montant",
        f"sku{nbsp}: doit contenir au moins 1 caractère",
        f"options{nbsp}: «{nbsp}size:M{nbsp}» n{apostrophe}est pas de la forme nom=valeur",
        f"sku déjà utilisé par un autre produit{nbsp}: DRESS-S (produit linen-dress)",
    ]
    unread = await import_feed(shop, "title,price\nCap,10\n", headers=french)
    await refused(unread, 422, f"content{nbsp}: il manque à l{apostrophe}en-tête CSV sku")


async def test_importing_again_updates_the_same_products(shop: Shop) -> None:
    first = await (await import_feed(shop, FEED)).json()
    shirt_id = (await products(shop))["linen-shirt"]["id"]
    again = (
        FEED.replace("Washed linen", "Washed Belgian linen")
        .replace("SHIRT-M,size=M; colour=Sand,2", "SHIRT-M,size=M; colour=Sand,7")
        .replace(",DRESS-S,", ",HAT-1,")  # the straw hat gets a sku of its own
    )
    response = await import_feed(shop, again + "linen-shirt,,,,39.90,,,SHIRT-L,size=L; colour=Sand,3\n")
    assert await response.json() == {
        "rows": 9,
        "created": 1,
        "updated": 2,
        "variants": 6,
        "errors": first["errors"][:3],
    }
    saved = await products(shop)
    assert sorted(saved) == ["linen-dress", "linen-shirt", "sandals", "straw-hat"]
    shirt = saved["linen-shirt"]
    assert shirt["id"] == shirt_id and shirt["summary"] == "Washed Belgian linen"
    assert [(v["sku"], v["stock"]) for v in shirt["variants"]] == [
        ("SHIRT-S", 4),
        ("SHIRT-M", 7),
        ("SHIRT-XL", 0),
        ("SHIRT-L", 3),
    ]


async def test_a_json_feed_is_read_like_the_csv_with_item_numbers_as_lines(shop: Shop) -> None:
    items: list[Any] = [
        {"handle": "wrap-skirt", "title": "Wrap skirt", "price": "35.00", "sku": "SKIRT-S", "options": "size=S"},
        {"handle": "wrap-skirt", "price": 35, "sku": "SKIRT-M", "options": "size=M", "stock": 6},
        {
            "title": "Beach towel",
            "price": 12.5,
            "sku": "TOWEL",
            "stock": "3",
            "image_urls": "https://cdn.example.com/t.jpg",
        },
        "not a product",
        {"title": "Sun hat", "price": "-4", "sku": "SUNHAT"},
        {"title": "Sun hat", "price": "4.999", "sku": "SUNHAT"},
        {"title": "Flip flops", "price": "9", "sku": "FLOPS", "stock": "many"},
        {"title": "Visor", "price": "9", "sku": "VISOR", "currency": "USD"},
        {"title": "Cap", "price": "9", "sku": "CAP", "compare_at_price": "8"},
        {"sku": "NO-TITLE", "price": "9"},
    ]
    response = await import_feed(shop, orjson.dumps(items).decode(), "json")
    assert response.status == 200, await response.text()
    report = await response.json()
    assert (report["rows"], report["created"], report["updated"], report["variants"]) == (10, 2, 0, 3)
    assert report["errors"] == [
        {"line": 4, "reason": "each item must be an object"},
        {"line": 5, "reason": "price: '-4' must be a positive amount with at most 2 decimals"},
        {"line": 6, "reason": "price: '4.999' must be a positive amount with at most 2 decimals"},
        {"line": 7, "reason": "stock: 'many' is not a whole number"},
        {"line": 8, "reason": "currency: the brand sells in EUR (change it in the commerce settings first)"},
        {"line": 9, "reason": "compare_at_price: must be above the price (it is shown struck through)"},
        {"line": 10, "reason": "title: missing"},
    ]
    saved = await products(shop)
    assert [(v["label"], v["stock"]) for v in saved["wrap-skirt"]["variants"]] == [("S", 0), ("M", 6)]
    towel = saved["beach-towel"]
    assert (towel["price"], towel["variants"][0]["stock"], towel["image_urls"]) == (
        1250,
        3,
        ["https://cdn.example.com/t.jpg"],
    )


async def test_a_json_feed_may_give_lists_and_objects_as_json_does(shop: Shop) -> None:
    items = [
        {
            "title": "Linen trousers",
            "price": "69.00",
            "sku": "TROUSERS-40",
            "options": {"size": "40", "colour": "Ecru"},
            "image_urls": ["https://cdn.example.com/trousers.jpg", "https://cdn.example.com/trousers-2.jpg"],
            "stock": 2,
        }
    ]
    report = await (await import_feed(shop, orjson.dumps(items).decode(), "json")).json()
    assert report["errors"] == [] and report["created"] == 1
    trousers = (await products(shop))["linen-trousers"]
    assert trousers["image_urls"] == ["https://cdn.example.com/trousers.jpg", "https://cdn.example.com/trousers-2.jpg"]
    assert trousers["variants"][0]["label"] == "40 / Ecru"


async def test_an_unreadable_feed_is_refused_whole(shop: Shop) -> None:
    for fmt, content, reason in [
        ("json", '[{"title": "Cap",', "content: not valid JSON"),
        ("json", '{"title": "Cap"}', "content: a JSON feed is a list of objects"),
        ("csv", "name,cost\nCap,9\n", "content: the CSV header lacks price, sku, title"),
        ("csv", "", "content: String should have at least 1 character"),
        ("xml", "<feed/>", "format: Input should be 'csv' or 'json'"),
    ]:
        await refused(await import_feed(shop, content, fmt), 422, reason)
    await refused(await import_feed(shop, FEED, headers=shop.room.host.headers), 403, "needs the manager role")
    await refused(await import_feed(shop, FEED, headers={}), 401, "sign in first")
    assert list(await products(shop)) == ["linen-dress"]


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The command reads its settings from the environment, as an operator's shell gives them."""
    monkeypatch.setenv("SHOPCAST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHOPCAST_SECRET_KEY", SECRET)
    monkeypatch.setenv("SHOPCAST_DATABASE_URL", settings.effective_database_url)


async def shopcast(*args: str) -> int:
    # main() runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(main, list(args))


async def test_the_command_imports_a_file_shows_progress_and_lists_bad_rows(
    shop: Shop, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "spring.csv"
    feed.write_text(FEED, encoding="utf-8")
    assert await shopcast("catalog", "import", str(feed), "--brand", "acme") == 1
    out, err = capsys.readouterr()
    assert out == "shopcast: 8 rows: 2 products created, 0 updated, 4 variants; 4 bad rows\n"
    assert "shopcast: 4/4 products" in err  # the rows of 2 more could not even be read
    assert [line for line in err.splitlines() if line.startswith("  line ")] == [
        f"  line {row['line']}: {row['reason']}" for row in BAD_ROWS
    ]
    assert sorted(await products(shop)) == ["linen-dress", "linen-shirt", "sandals"]

    good = tmp_path / "fixed.feed"
    good.write_text(FEED.splitlines()[0] + "\n" + "\n".join(FEED.splitlines()[1:4]) + "\n", encoding="utf-8")
    assert await shopcast("catalog", "import", str(good), "--brand", "acme", "--format", "csv") == 0
    out, err = capsys.readouterr()
    assert out == "shopcast: 3 rows: 0 products created, 1 updated, 3 variants; 0 bad rows\n"
    assert "line" not in err


async def test_the_command_says_in_one_line_what_stops_it(
    shop: Shop, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"title": "Cap"', encoding="utf-8")
    (tmp_path / "feed.txt").write_text(FEED, encoding="utf-8")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    for args, reason in [
        ([str(broken), "--brand", "acme"], "shopcast: content: not valid JSON"),
        ([str(tmp_path / "feed.txt"), "--brand", "acme"], "say --format csv or --format json"),
        ([str(tmp_path / "empty.csv"), "--brand", "acme"], "the file is empty"),
        ([str(tmp_path / "missing.csv"), "--brand", "acme"], "No such file or directory"),
        ([str(tmp_path / "feed.txt"), "--brand", "nope", "--format", "csv"], "shopcast: no brand"),
    ]:
        assert await shopcast("catalog", "import", *args) == 1, args
        err = capsys.readouterr().err
        assert reason in err and len(err.strip().splitlines()) == 1, err
    assert list(await products(shop)) == ["linen-dress"]
