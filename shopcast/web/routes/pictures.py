"""Product pictures over HTTP: a manager uploads one (the file itself as the body), and its sizes are
served to anyone with headers that let browsers and CDNs keep them for ever."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from shopcast.catalog import products
from shopcast.catalog.pictures import PictureStore
from shopcast.catalog.schemas import PictureAdded
from shopcast.core.errors import NotFound, UnsupportedMediaType
from shopcast.web.api import Api, Call
from shopcast.web.context import RESOURCES
from shopcast.web.openapi import plain_operation

api = Api()

# The bytes decide what the file is (catalog/pictures.py); any image type, or none, may be named here.
UPLOAD_TYPES = ("image/*", "application/octet-stream")
# A name is the hash of the picture's bytes: what it names never changes.
FOR_EVER = "public, max-age=31536000, immutable"


async def _uploaded(request: web.Request, store: PictureStore) -> bytes:
    """The body, read up to the store's limit (a larger one is refused as soon as it is seen)."""
    kind = request.content_type
    if not kind.startswith("image/") and kind != "application/octet-stream":
        raise UnsupportedMediaType("errors.picture.upload_type", extra={"reason": "not_a_picture"})
    if request.content_length is not None and request.content_length > store.max_bytes:
        raise store.too_large()
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > store.max_bytes:
            raise store.too_large()
    return bytes(body)


@api.route(
    "POST",
    "/api/v1/products/{product_id}/pictures",
    summary="Upload a picture of the product (JPEG, PNG or WebP as the body): added after its pictures (managers)",
    tag="catalog",
    response=PictureAdded,
    status=201,
    access="signed-in",
    errors=(409,),
    upload=UPLOAD_TYPES,
)
async def add_picture(call: Call, product_id: uuid.UUID) -> PictureAdded:
    store = call.resources.pictures
    content = await _uploaded(call.request, store)
    return await products.add_picture(
        call.session, actor=call.actor, product_id=product_id, content=content, pictures=store, now=call.now()
    )


async def picture_file(request: web.Request) -> web.StreamResponse:
    path = request.app[RESOURCES].pictures.path(request.match_info["name"])
    if path is None or not path.is_file():
        raise NotFound("errors.picture.none")
    return web.FileResponse(path, headers={"Content-Type": "image/webp", "Cache-Control": FOR_EVER})


def install(app: web.Application) -> None:
    app.router.add_get("/pictures/{name}", picture_file, name="picture")


PICTURES_DOC: dict[str, Any] = {
    "/pictures/{name}": {
        "get": plain_operation(
            "picture_file",
            "A product picture in one size (`<hash>-<160|480|1080>.webp`), cached for ever",
            tag="catalog",
            path={"name": str},
            responses={
                "200": {
                    "description": "The WebP file",
                    "content": {"image/webp": {"schema": {"type": "string", "format": "binary"}}},
                }
            },
        )
    }
}
