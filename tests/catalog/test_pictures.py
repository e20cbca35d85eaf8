"""Product pictures uploaded by the brand's managers: checked, made into the pages' sizes once, served
for ever; anything that is not a picture to take is refused with its reason and leaves nothing."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from PIL import Image, TiffImagePlugin

from shopcast.core.settings import Settings
from shopcast.web.app import create_app
from tests.catalog.conftest import Shop
from tests.conftest import SettableClock
from tests.problems import refused

IMMUTABLE = "public, max-age=31536000, immutable"
ORIENTATION, GPS = 0x0112, 0x8825


def photo(size: tuple[int, int] = (1600, 1200), *, orientation: int = 1, colour: str = "#c0392b") -> bytes:
    """A JPEG as a phone writes it: taken sideways (EXIF orientation), with where it was taken (GPS)."""
    picture = Image.new("RGB", size, colour)
    picture.paste("#1f3a93", (0, 0, size[0], size[1] // 4))  # a band along the top edge of the sensor
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS)[2] = (TiffImagePlugin.IFDRational(48), TiffImagePlugin.IFDRational(51), 0)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png(size: tuple[int, int] = (300, 200), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (20, 160, 90, 128) if mode == "RGBA" else (20, 160, 90)).save(out, "PNG")
    return out.getvalue()


def bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG of a few hundred bytes that declares width x height pixels (2.5 billion: ~7.5 GB decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width * 3 + 1) * 4, 9)  # four blank rows, squeezed to almost nothing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def stored_files(settings: Settings) -> list[Path]:
    folder = settings.effective_pictures_dir
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def upload(shop: Shop, content: bytes, *, content_type: str = "image/jpeg", headers: Any = None) -> Any:
    return await shop.client.post(
        f"/api/v1/products/{shop.product['id']}/pictures",
        data=content,
        headers={"Content-Type": content_type, **(shop.room.manager.headers if headers is None else headers)},
    )


async def served(client: Any, url: str) -> Image.Image:
    response = await client.get(url)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["Cache-Control"] == IMMUTABLE
    picture = Image.open(io.BytesIO(await response.read()))
    assert picture.format == "WEBP"
    return picture


async def test_a_managers_picture_is_served_upright_without_metadata_in_each_size_the_pages_use(
    shop: Shop, settings: Settings
) -> None:
    client = shop.client
    # Held sideways: 1600x1200 as the sensor saw it, 1200x1600 as the person held the phone.
    response = await upload(shop, photo(orientation=6))
    assert response.status == 201, await response.text()
    added = await response.json()
    picture = added["picture"]
    assert picture["url"].startswith("/pictures/") and picture["url"].endswith("-1080.webp")
    assert (picture["width"], picture["height"]) == (810, 1080)
    assert sorted(picture["sizes"]) == ["1080", "160", "480"]
    # After the pasted address: the product's pictures, in the order the manager gave them.
    assert added["product"]["image_urls"] == ["https://cdn.example.test/dress.jpg", picture["url"]]

    for size, box in [("160", (120, 160)), ("480", (360, 480)), ("1080", (810, 1080))]:
        shown = await served(client, picture["sizes"][size])
        assert shown.size == box
        # Upright: the band along the sensor's top edge is now down the right-hand side.
        assert shown.convert("RGB").getpixel((box[0] - 2, box[1] // 2))[2] > 120
        assert shown.convert("RGB").getpixel((2, box[1] // 2))[0] > 150
        assert not shown.getexif() and "icc_profile" not in shown.info and "xmp" not in shown.info
    assert len(stored_files(settings)) == 3

    # The same file again is the same picture: not written again, not listed twice.
    again = await (await upload(shop, photo(orientation=6))).json()
    assert again["picture"] == picture and again["product"]["image_urls"] == added["product"]["image_urls"]
    assert len(stored_files(settings)) == 3

    # A PNG with transparency keeps it; it is small, so it is never enlarged.
    response = await upload(shop, png(), content_type="application/octet-stream")
    assert response.status == 201, await response.text()
    clear = (await response.json())["picture"]
    assert (clear["width"], clear["height"]) == (300, 200)
    assert (await served(client, clear["sizes"]["160"])).mode == "RGBA"

    # Every page that shows the product lists it: the public card, the lineup, a viewer's cart.
    card = await (await client.get(f"/api/v1/public/products/{shop.product['id']}")).json()
    assert card["image_urls"][1:] == [picture["url"], clear["url"]]
    # Its own pictures first: the manager orders them with the product's image_urls, as pasted ones.
    reordered = {"image_urls": [picture["url"], clear["url"]]}
    response = await client.patch(
        f"/api/v1/products/{shop.product['id']}", json=reordered, headers=shop.room.manager.headers
    )
    assert response.status == 200, await response.text()
    lineup = {"product_ids": [shop.product["id"]]}
    await client.put(f"/api/v1/episodes/{shop.episode_id}/lineup", json=lineup, headers=shop.room.host.headers)
    shown = await (await client.get(f"/api/v1/public/episodes/{shop.episode_id}/lineup")).json()
    assert shown[0]["image_urls"][0] == picture["url"]
    lea = await shop.guest()
    assert (await shop.add(lea)).status == 201
    assert (await shop.cart(lea))["items"][0]["image_url"] == picture["url"]

    # Anyone may load them (an <img> sends no token), with validators for a revalidation.
    head = await client.head(picture["sizes"]["480"])
    assert head.status == 200 and head.headers["Cache-Control"] == IMMUTABLE and "ETag" in head.headers


async def test_what_is_not_a_picture_to_take_is_refused_with_its_reason_and_leaves_nothing(
    shop: Shop, settings: Settings
) -> None:
    whole = photo()
    text = b"name,price\nLinen dress,49.90\n"
    gif = io.BytesIO()
    Image.new("RGB", (40, 40)).save(gif, "GIF")
    cases: list[tuple[bytes, str, int, str, str]] = [
        (text, "text/csv", 415, "not_a_picture", "send the picture's own bytes as the body"),
        (text, "image/png", 415, "not_a_picture", "this file is not a JPEG, PNG or WebP picture"),  # renamed
        (gif.getvalue(), "image/gif", 415, "not_a_picture", "this file is not a JPEG, PNG or WebP picture"),
        (b"", "image/jpeg", 415, "not_a_picture", "the body is empty"),
        (b'{"url": "https://x.test/a.jpg"}', "application/json", 415, "not_a_picture", "own bytes"),
        (bomb(), "image/png", 422, "too_many_pixels", "more than 40,000,000 pixels"),
        (bomb(8000, 6000), "image/png", 422, "too_many_pixels", "more than 40,000,000 pixels"),  # 48 Mpx
        (whole[: len(whole) * 2 // 3], "image/jpeg", 422, "damaged", "this JPEG picture is damaged or incomplete"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "image/png", 422, "damaged", "this PNG picture is damaged"),
        (b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024), "image/jpeg", 413, "too_large", "larger than 10,485,760 bytes"),
    ]
    for content, content_type, status, reason, detail in cases:
        problem = await refused(await upload(shop, content, content_type=content_type), status, detail)
        assert problem["reason"] == reason, problem
    assert problem["max_bytes"] == 10 * 1024 * 1024

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: refused once the limit is passed
        yield b"\xff\xd8\xff"
        for _ in range(11):
            yield b"\0" * (1024 * 1024)

    problem = await refused(await upload(shop, streamed()), 413, "at most 10 MiB")  # type: ignore[arg-type]
    assert problem["reason"] == "too_large"

    # A French manager reads why in French, the numbers written the French way; the codes stay.
    french = {**shop.room.manager.headers, "Accept-Language": "fr-FR,fr;q=0.9"}
    big = b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024)
    size = "10\N{NARROW NO-BREAK SPACE}485\N{NARROW NO-BREAK SPACE}760"
    said = f"l\N{RIGHT SINGLE QUOTATION MARK}image dépasse {size} octets (10 Mio au plus)"
    problem = await refused(await upload(shop, big, headers=french), 413, said)
    assert (problem["reason"], problem["max_bytes"]) == ("too_large", 10 * 1024 * 1024)

    assert stored_files(settings) == []
    product = await (
        await shop.client.get(f"/api/v1/products/{shop.product['id']}", headers=shop.room.manager.headers)
    ).json()
    assert product == shop.product  # not touched: same pictures, same updated_at


async def test_only_the_brands_managers_add_pictures_and_a_product_holds_twenty(shop: Shop, settings: Settings) -> None:
    client, room = shop.client, shop.room
    rival = await shop.rival()
    for headers, status, reason in [
        ({}, 401, "sign in first"),
        (await shop.guest(), 403, "guests cannot do this"),
        (room.host.headers, 403, "this needs the manager role; you are host"),
        (rival.manager.headers, 403, "you have no role in this brand"),
    ]:
        await refused(await upload(shop, photo(), headers=headers), status, reason)
    # Not even a look at the body: a bomb from someone who may not upload is refused for who they are.
    await refused(await upload(shop, bomb(), headers=rival.manager.headers), 403, "you have no role in this brand")
    unknown = "/api/v1/products/8d4f2d55-3f4c-4d7e-9a55-7d8c9f0a1b2c/pictures"
    response = await client.post(unknown, data=photo(), headers={"Content-Type": "image/jpeg", **room.manager.headers})
    await refused(response, 404, "no product")
    # A page of another site cannot make a signed-in manager's browser upload (the Origin rule).
    foreign = {"Origin": "https://evil.example", "Content-Type": "image/jpeg", **room.manager.headers}
    response = await client.post(f"/api/v1/products/{shop.product['id']}/pictures", data=photo(), headers=foreign)
    await refused(response, 403, "requests from https://evil.example are not allowed")
    assert stored_files(settings) == []

    full = {"image_urls": [f"https://cdn.example.test/{n}.jpg" for n in range(20)]}
    response = await client.patch(f"/api/v1/products/{shop.product['id']}", json=full, headers=room.manager.headers)
    assert response.status == 200, await response.text()
    problem = await refused(await upload(shop, photo()), 409, "the product already has 20 pictures")
    assert problem["reason"] == "too_many_pictures" and stored_files(settings) == []


async def test_two_pictures_uploaded_at_once_are_both_kept(shop: Shop) -> None:
    responses = await asyncio.gather(*(upload(shop, photo(colour=colour)) for colour in ("#111111", "#eeeeee")))
    urls = []
    for response in responses:
        assert response.status == 201, await response.text()
        urls.append((await response.json())["picture"]["url"])
    product = await (
        await shop.client.get(f"/api/v1/products/{shop.product['id']}", headers=shop.room.manager.headers)
    ).json()
    assert sorted(product["image_urls"][1:]) == sorted(urls)


async def test_a_picture_taken_by_one_replica_is_served_by_another_sharing_the_folder(
    shop: Shop, settings: Settings, aiohttp_client: Any, tmp_path: Path, clock: SettableClock
) -> None:
    shared = settings.model_copy(update={"pictures_dir": tmp_path / "shared-pictures"})
    first, second = [await aiohttp_client(create_app(shared, clock=clock)) for _ in range(2)]
    response = await first.post(
        f"/api/v1/products/{shop.product['id']}/pictures",
        data=photo(),
        headers={"Content-Type": "image/jpeg", **shop.room.manager.headers},
    )
    assert response.status == 201, await response.text()
    url = (await response.json())["picture"]["url"]
    assert (await served(second, url)).size == (1080, 810)
    assert (
        len(list((tmp_path / "shared-pictures").rglob("*.webp"))) == 3 and not (settings.data_dir / "pictures").exists()
    )


async def test_only_picture_names_are_served(shop: Shop) -> None:
    client = shop.client
    for path in [
        "/pictures/0123456789abcdef0123456789abcdef-480.webp",  # well formed, never uploaded
        "/pictures/0123456789abcdef0123456789abcdef-500.webp",  # not a size
        "/pictures/..%2Fsecret_key",
        "/pictures/shopcast.db",
    ]:
        response = await client.get(path)
        assert response.status == 404, path
