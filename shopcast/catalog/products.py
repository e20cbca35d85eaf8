"""A brand's products and their variants: creating, editing, pictures, archiving and restoring, and the
cards viewers see."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.catalog import sold_out, stock
from shopcast.catalog.commerce import settings_of
from shopcast.catalog.models import Product, Variant
from shopcast.catalog.pictures import SIZES, PictureStore
from shopcast.catalog.schemas import (
    Picture,
    PictureAdded,
    ProductCard,
    ProductIn,
    ProductOut,
    ProductUpdate,
    VariantIn,
    VariantOut,
)
from shopcast.core.bus import Bus
from shopcast.core.errors import Conflict, InvalidInput, NotFound, Phrase
from shopcast.core.security import Principal, Role, authorize

CATALOG_EDITORS = (Role.MANAGER,)
CATALOG_READERS = (Role.MANAGER, Role.HOST, Role.MODERATOR)
MAX_PICTURES = 20  # a product's image_urls (ProductIn)


ONE_SIZE = "One size"


def variant_label(options: dict[str, str]) -> str:
    """The options for people: "M / Red" (or "One size" for a product without options)."""
    return " / ".join(options.values()) or ONE_SIZE


def options_said(label: str) -> str:
    """A stored label without the English "One size" of a product without options (it says nothing more than
    the title, in any language)."""
    return "" if label == ONE_SIZE else label


def handle_from(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:100] or "product"


def variant_price(product: Product, variant: Variant) -> int:
    return variant.price if variant.price is not None else product.price


def variant_out(product: Product, variant: Variant) -> VariantOut:
    return VariantOut(
        id=variant.id,
        sku=variant.sku,
        options=variant.options,
        label=variant_label(variant.options),
        price=variant_price(product, variant),
        stock=variant.stock,
        sold_out=variant.stock == 0,
    )


async def variants_of(session: AsyncSession, product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Variant]]:
    """Each product's variants in their order, in one query."""
    found: dict[uuid.UUID, list[Variant]] = {}
    ids = list(product_ids)
    if not ids:
        return found
    rows = await session.scalars(
        select(Variant).where(Variant.product_id.in_(ids)).order_by(Variant.product_id, Variant.position)
    )
    for variant in rows:
        found.setdefault(variant.product_id, []).append(variant)
    return found


def _card_fields(product: Product, variants: list[Variant]) -> dict[str, object]:
    return {
        "id": product.id,
        "brand_id": product.brand_id,
        "title": product.title,
        "summary": product.summary,
        "description": product.description,
        "image_urls": product.image_urls,
        "price": product.price,
        "compare_at_price": product.compare_at_price,
        "currency": product.currency,
        "variants": [variant_out(product, v) for v in variants],
        "sold_out": all(v.stock == 0 for v in variants),
    }


async def cards(session: AsyncSession, products: Sequence[Product]) -> list[ProductCard]:
    variants = await variants_of(session, (p.id for p in products))
    return [ProductCard.model_validate(_card_fields(p, variants.get(p.id, []))) for p in products]


async def products_out(session: AsyncSession, products: Sequence[Product]) -> list[ProductOut]:
    variants = await variants_of(session, (p.id for p in products))
    return [
        ProductOut.model_validate(
            {
                **_card_fields(p, variants.get(p.id, [])),
                "handle": p.handle,
                "archived": p.archived,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
            }
        )
        for p in products
    ]


async def load_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("errors.product.none", product_id=product_id)
    return product


async def brand_currencies(session: AsyncSession, brand_id: uuid.UUID) -> set[str]:
    """The currencies the brand's products are priced in (one, unless something is wrong)."""
    return set(await session.scalars(select(Product.currency).where(Product.brand_id == brand_id).distinct()))


# --- writing ---------------------------------------------------------------------------------


async def _check_skus(
    session: AsyncSession, brand_id: uuid.UUID, product_id: uuid.UUID | None, skus: list[str]
) -> None:
    """An SKU names one variant in the whole brand: it may not already belong to another product."""
    taken = await session.execute(
        select(Variant.sku, Product.handle)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.brand_id == brand_id, Variant.sku.in_(skus), Variant.product_id != product_id)
    )
    clashes = [Phrase("errors.product.sku_of", sku=sku, handle=handle) for sku, handle in taken]
    if clashes:
        raise Conflict("errors.product.sku_taken", clashes=clashes)


def _check_prices(price: int, compare_at_price: int | None) -> None:
    if compare_at_price is not None and compare_at_price <= price:
        raise InvalidInput("errors.product.compare_at_price")


async def _currency(session: AsyncSession, brand: Brand, wanted: str | None, *, now: datetime) -> str:
    currency = (await settings_of(session, brand.id, now=now)).currency
    if wanted is not None and wanted != currency:
        raise InvalidInput("errors.product.currency", currency=currency)
    return currency


def _set_variants(product: Product, existing: dict[str, Variant], wanted: list[VariantIn]) -> list[Variant]:
    """Change the variants named by sku, add the new ones; returns those whose stock changed."""
    changed = []
    position = max((v.position for v in existing.values()), default=-1) + 1
    for data in wanted:
        variant = existing.get(data.sku)
        if variant is None:
            variant = Variant(
                product_id=product.id,
                brand_id=product.brand_id,
                sku=data.sku,
                options=data.options,
                position=position,
                price=data.price,
                stock=data.stock,
            )
            existing[data.sku] = variant
            position += 1
            changed.append(variant)
            continue
        # Only what is given changes: `{"sku": "M-RED", "stock": 9}` restocks and keeps the size.
        given = data.model_fields_set
        if "stock" in given and variant.stock != data.stock:
            changed.append(variant)
            variant.stock = data.stock
        if "options" in given:
            variant.options = data.options
        if "price" in given:
            variant.price = data.price
    return changed


async def save_product(
    session: AsyncSession, *, brand: Brand, data: ProductIn, now: datetime, bus: Bus | None = None
) -> tuple[Product, bool]:
    """Create the product, or update the brand's product with the same handle (imports); True if created."""
    handle = data.handle or handle_from(data.title)
    _check_prices(data.price, data.compare_at_price)
    currency = await _currency(session, brand, data.currency, now=now)
    product = await session.scalar(select(Product).where(Product.brand_id == brand.id, Product.handle == handle))
    created = product is None
    await _check_skus(session, brand.id, None if product is None else product.id, [v.sku for v in data.variants])
    if product is None:
        product = Product(brand_id=brand.id, handle=handle, currency=currency, created_at=now)
        session.add(product)
    product.title, product.summary, product.description = data.title, data.summary, data.description
    product.image_urls, product.price, product.compare_at_price = data.image_urls, data.price, data.compare_at_price
    product.archived = False
    product.updated_at = now
    await session.flush()
    existing = {v.sku: v for v in (await variants_of(session, [product.id])).get(product.id, [])}
    changed = _set_variants(product, existing, data.variants)
    session.add_all(existing.values())
    await session.flush()
    sold_out.put_back(session, [v.id for v in changed])
    if bus is not None and not created:
        stock.announce(session, bus, [v.id for v in changed])
    return product, created


async def create_product(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, data: ProductIn, now: datetime
) -> ProductOut:
    """A new product (managers); its handle must be new in the brand."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, *CATALOG_EDITORS)
    handle = data.handle or handle_from(data.title)
    if await session.scalar(select(Product.id).where(Product.brand_id == brand.id, Product.handle == handle)):
        raise Conflict("errors.product.handle_taken", handle=handle)
    product, _ = await save_product(session, brand=brand, data=data.model_copy(update={"handle": handle}), now=now)
    return (await products_out(session, [product]))[0]


async def list_products(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, archived: bool = False
) -> list[ProductOut]:
    """The brand's products by title (its staff)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, *CATALOG_READERS)
    query = select(Product).where(Product.brand_id == brand.id)
    if not archived:
        query = query.where(Product.archived.is_(False))
    return await products_out(session, list(await session.scalars(query.order_by(Product.title, Product.handle))))


async def get_product(session: AsyncSession, *, actor: Principal | None, product_id: uuid.UUID) -> ProductOut:
    product = await load_product(session, product_id)
    authorize(actor, product.brand_id, *CATALOG_READERS)
    return (await products_out(session, [product]))[0]


async def update_product(
    session: AsyncSession,
    *,
    actor: Principal | None,
    product_id: uuid.UUID,
    data: ProductUpdate,
    now: datetime,
    bus: Bus,
) -> ProductOut:
    """Change a product's fields and variants (managers); live rooms hear of stock changes."""
    product = await load_product(session, product_id)
    authorize(actor, product.brand_id, *CATALOG_EDITORS)
    fields = data.model_dump(exclude_unset=True, exclude={"variants"})
    for name in ("title", "price"):
        if name in fields and fields[name] is None:
            raise InvalidInput("errors.product.empty", name=name)
    empty: dict[str, object] = {"summary": "", "description": "", "image_urls": [], "compare_at_price": None}
    for name, value in fields.items():
        setattr(product, name, empty[name] if value is None else value)
    _check_prices(product.price, product.compare_at_price)
    product.updated_at = now
    if data.variants:
        skus = [v.sku for v in data.variants]
        if len(set(skus)) != len(skus):
            raise InvalidInput("errors.product.variant_skus")
        await _check_skus(session, product.brand_id, product.id, [v.sku for v in data.variants])
        existing = {v.sku: v for v in (await variants_of(session, [product.id])).get(product.id, [])}
        changed = _set_variants(product, existing, data.variants)
        session.add_all(existing.values())
        await session.flush()
        sold_out.put_back(session, [v.id for v in changed])
        stock.announce(session, bus, [v.id for v in changed])
    await session.flush()
    return (await products_out(session, [product]))[0]


async def archive_product(
    session: AsyncSession, *, actor: Principal | None, product_id: uuid.UUID, now: datetime
) -> None:
    """Take a product off sale (managers): kept for its orders, gone from lineups and carts."""
    from shopcast.catalog import lineup  # lineups use products; archiving is the one way back

    product = await load_product(session, product_id)
    authorize(actor, product.brand_id, *CATALOG_EDITORS)
    product.archived = True
    product.updated_at = now
    await lineup.drop_product(session, product.id)


async def restore_product(
    session: AsyncSession, *, actor: Principal | None, product_id: uuid.UUID, now: datetime
) -> ProductOut:
    """Put an archived product back on sale (managers); lineups it left must add it again."""
    product = await load_product(session, product_id)
    authorize(actor, product.brand_id, *CATALOG_EDITORS)
    if product.archived:
        product.archived = False
        product.updated_at = now
        await session.flush()
    return (await products_out(session, [product]))[0]


def _too_many_pictures() -> Conflict:
    return Conflict("errors.picture.too_many", count=MAX_PICTURES, extra={"reason": "too_many_pictures"})


async def add_picture(
    session: AsyncSession,
    *,
    actor: Principal | None,
    product_id: uuid.UUID,
    content: bytes,
    pictures: PictureStore,
    now: datetime,
) -> PictureAdded:
    """Check an uploaded picture, store its sizes and add it after the product's pictures (managers)."""
    product = await load_product(session, product_id)
    authorize(actor, product.brand_id, *CATALOG_EDITORS)
    if len(product.image_urls) >= MAX_PICTURES:
        raise _too_many_pictures()
    stored = await pictures.save(content)
    # Take the product's row (a write lock on SQLite, the row's lock on PostgreSQL) and read its
    # pictures again: two uploads at once both end up in the list, neither overwrites the other.
    await session.execute(update(Product).where(Product.id == product.id).values(updated_at=now))
    await session.refresh(product)
    if stored.url() not in product.image_urls:
        if len(product.image_urls) >= MAX_PICTURES:
            raise _too_many_pictures()
        product.image_urls = [*product.image_urls, stored.url()]
    await session.flush()
    picture = Picture(
        url=stored.url(), width=stored.width, height=stored.height, sizes={size: stored.url(size) for size in SIZES}
    )
    return PictureAdded(picture=picture, product=(await products_out(session, [product]))[0])


async def public_product(session: AsyncSession, *, product_id: uuid.UUID) -> ProductCard:
    product = await load_product(session, product_id)
    if product.archived:
        raise NotFound("errors.product.none", product_id=product_id)
    return (await cards(session, [product]))[0]
