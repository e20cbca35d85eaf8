"""The catalog over HTTP: products and the feed import, the brand's commerce settings, the
episode's lineup, pins and flash deals, and what viewers read without signing in."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from shopcast.catalog import commerce, feed, lineup, products
from shopcast.catalog.schemas import (
    CommerceIn,
    CommerceOut,
    DealIn,
    ImportIn,
    ImportReport,
    LineupIn,
    PinIn,
    PinOut,
    ProductCard,
    ProductIn,
    ProductOut,
    ProductUpdate,
    ShippingOptions,
)
from shopcast.web.api import Api, Call

api = Api()


class ProductsQuery(BaseModel):
    archived: bool = False


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/products",
    summary="The brand's products (its staff; `archived=true` lists archived ones too)",
    tag="catalog",
    response=list[ProductOut],
    access="signed-in",
)
async def list_products(call: Call, brand_slug: str, query: ProductsQuery) -> list[ProductOut]:
    return await products.list_products(call.session, actor=call.actor, brand_slug=brand_slug, archived=query.archived)


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/products",
    summary="Create a product with its variants (managers)",
    tag="catalog",
    response=ProductOut,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def create_product(call: Call, brand_slug: str, body: ProductIn) -> ProductOut:
    return await products.create_product(
        call.session, actor=call.actor, brand_slug=brand_slug, data=body, now=call.now()
    )


@api.route(
    "GET",
    "/api/v1/products/{product_id}",
    summary="A product (the brand's staff)",
    tag="catalog",
    response=ProductOut,
    access="signed-in",
)
async def get_product(call: Call, product_id: uuid.UUID) -> ProductOut:
    return await products.get_product(call.session, actor=call.actor, product_id=product_id)


@api.route(
    "PATCH",
    "/api/v1/products/{product_id}",
    summary="Change a product; variants are changed by sku or added (managers)",
    tag="catalog",
    response=ProductOut,
    access="signed-in",
    errors=(409,),
)
async def update_product(call: Call, product_id: uuid.UUID, body: ProductUpdate) -> ProductOut:
    return await products.update_product(
        call.session, actor=call.actor, product_id=product_id, data=body, now=call.now(), bus=call.resources.bus
    )


@api.route(
    "DELETE",
    "/api/v1/products/{product_id}",
    summary="Archive a product: off sale and out of lineups, kept for its orders (managers)",
    tag="catalog",
    status=204,
    access="signed-in",
)
async def archive_product(call: Call, product_id: uuid.UUID) -> None:
    await products.archive_product(call.session, actor=call.actor, product_id=product_id, now=call.now())


@api.route(
    "POST",
    "/api/v1/products/{product_id}/restore",
    summary="Put an archived product back on sale (managers)",
    tag="catalog",
    response=ProductOut,
    access="signed-in",
)
async def restore_product(call: Call, product_id: uuid.UUID) -> ProductOut:
    return await products.restore_product(call.session, actor=call.actor, product_id=product_id, now=call.now())


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/catalog/import",
    summary="Import a product feed (CSV or JSON): good rows saved, bad rows listed with their line",
    tag="catalog",
    response=ImportReport,
    access="signed-in",
)
async def import_catalog(call: Call, brand_slug: str, body: ImportIn) -> ImportReport:
    return await feed.import_feed(
        call.session, actor=call.actor, brand_slug=brand_slug, data=body, now=call.now(), bus=call.resources.bus
    )


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/commerce",
    summary="How the brand sells: currency, shipping, taxes, its shop (managers)",
    tag="catalog",
    response=CommerceOut,
    access="signed-in",
)
async def get_commerce(call: Call, brand_slug: str) -> CommerceOut:
    return await commerce.get_commerce(call.session, actor=call.actor, brand_slug=brand_slug, now=call.now())


@api.route(
    "PUT",
    "/api/v1/brands/{brand_slug}/commerce",
    summary="Set how the brand sells (managers)",
    tag="catalog",
    response=CommerceOut,
    access="signed-in",
)
async def set_commerce(call: Call, brand_slug: str, body: CommerceIn) -> CommerceOut:
    return await commerce.set_commerce(call.session, actor=call.actor, brand_slug=brand_slug, data=body, now=call.now())


# --- the live: lineup, pins, flash deals -----------------------------------------------------


@api.route(
    "PUT",
    "/api/v1/episodes/{episode_id}/lineup",
    summary="Set the products the episode will show, in order (its hosts and managers)",
    tag="catalog",
    response=list[ProductCard],
    access="signed-in",
)
async def set_lineup(call: Call, episode_id: uuid.UUID, body: LineupIn) -> list[ProductCard]:
    return await lineup.set_lineup(call.session, actor=call.actor, episode_id=episode_id, product_ids=body.product_ids)


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/pin",
    summary="Pin a product over the live video: every viewer gets `pin:shown` (hosts and managers)",
    tag="catalog",
    response=PinOut,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def show_pin(call: Call, episode_id: uuid.UUID, body: PinIn) -> PinOut:
    return await lineup.show_pin(
        call.session,
        actor=call.actor,
        episode_id=episode_id,
        product_id=body.product_id,
        now=call.now(),
        bus=call.resources.bus,
    )


@api.route(
    "DELETE",
    "/api/v1/episodes/{episode_id}/pin",
    summary="Take the pinned product down: every viewer gets `pin:hidden`",
    tag="catalog",
    status=204,
    access="signed-in",
    errors=(409,),
)
async def hide_pin(call: Call, episode_id: uuid.UUID) -> None:
    await lineup.hide_pin(call.session, actor=call.actor, episode_id=episode_id, now=call.now(), bus=call.resources.bus)


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/pin/deal",
    summary="Turn the pinned product into a flash deal: a price, a quantity and a countdown",
    tag="catalog",
    response=PinOut,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def start_deal(call: Call, episode_id: uuid.UUID, body: DealIn) -> PinOut:
    return await lineup.start_deal(
        call.session,
        actor=call.actor,
        episode_id=episode_id,
        price=body.price,
        quantity=body.quantity,
        seconds=body.seconds,
        now=call.now(),
        bus=call.resources.bus,
    )


@api.route(
    "DELETE",
    "/api/v1/episodes/{episode_id}/pin/deal",
    summary="Stop the flash deal early: the regular price applies again",
    tag="catalog",
    response=PinOut,
    access="signed-in",
    errors=(409,),
)
async def stop_deal(call: Call, episode_id: uuid.UUID) -> PinOut:
    return await lineup.stop_deal(
        call.session, actor=call.actor, episode_id=episode_id, now=call.now(), bus=call.resources.bus
    )


# --- public ----------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}/lineup",
    summary="The products the episode shows, in order",
    tag="public",
    response=list[ProductCard],
)
async def public_lineup(call: Call, episode_id: uuid.UUID) -> list[ProductCard]:
    return await lineup.public_lineup(call.session, episode_id=episode_id)


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}/pins",
    summary="Every pin of the episode with its times (the replay's timeline)",
    tag="public",
    response=list[PinOut],
)
async def pin_history(call: Call, episode_id: uuid.UUID) -> list[PinOut]:
    return await lineup.pin_history(call.session, episode_id=episode_id, now=call.now())


@api.route(
    "GET",
    "/api/v1/public/products/{product_id}",
    summary="A product as viewers see it, with live stock",
    tag="public",
    response=ProductCard,
)
async def public_product(call: Call, product_id: uuid.UUID) -> ProductCard:
    return await products.public_product(call.session, product_id=product_id)


@api.route(
    "GET",
    "/api/v1/public/brands/{brand_slug}/shipping",
    summary="Shipping, pickup stores, taxes and ways to pay, for the checkout form",
    tag="public",
    response=ShippingOptions,
)
async def shipping_options(call: Call, brand_slug: str) -> ShippingOptions:
    return await commerce.shipping_options(call.session, brand_slug=brand_slug, now=call.now())
