"""How a brand sells: its currency, shipping rates, taxes and shop link, and the totals they give."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog.models import CommerceSettings
from shopcast.catalog.payments import PROVIDERS
from shopcast.catalog.schemas import (
    CommerceIn,
    CommerceOut,
    Delivery,
    PaymentName,
    Pickup,
    PickupStore,
    ShippingOptions,
    Totals,
)
from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import InvalidInput
from shopcast.core.security import Principal, Role, authorize

DEFAULTS = CommerceIn()


async def settings_of(session: AsyncSession, brand_id: uuid.UUID, *, now: datetime) -> CommerceSettings:
    """The brand's commerce settings, made with the defaults the first time they are needed."""
    found = await session.get(CommerceSettings, brand_id)
    if found is not None:
        return found
    await session.execute(
        insert_ignoring_duplicates(session, CommerceSettings.__table__).values(
            brand_id=brand_id,
            currency=DEFAULTS.currency,
            flat_rate=DEFAULTS.flat_rate,
            free_above=DEFAULTS.free_above,
            pickup_stores=[],
            tax_rate_bp=round(DEFAULTS.tax_rate_percent * 100),
            tax_included=DEFAULTS.tax_included,
            shop_checkout_url=None,
            shop_secret=secrets.token_urlsafe(32),
            updated_at=now,
        )
    )
    return (await session.scalars(select(CommerceSettings).where(CommerceSettings.brand_id == brand_id))).one()


def commerce_out(found: CommerceSettings) -> CommerceOut:
    return CommerceOut(
        brand_id=found.brand_id,
        currency=found.currency,
        flat_rate=found.flat_rate,
        free_above=found.free_above,
        pickup_stores=[PickupStore.model_validate(s) for s in found.pickup_stores],
        tax_rate_percent=found.tax_rate_bp / 100,
        tax_included=found.tax_included,
        shop_checkout_url=found.shop_checkout_url,
        shop_secret=found.shop_secret,
    )


async def get_commerce(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, now: datetime
) -> CommerceOut:
    """The brand's commerce settings (managers)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    return commerce_out(await settings_of(session, brand.id, now=now))


async def set_commerce(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, data: CommerceIn, now: datetime
) -> CommerceOut:
    """Change how the brand sells (managers). The currency stays while products are priced in another."""
    from shopcast.catalog.products import brand_currencies  # the catalog's own query, not a cycle at import

    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    found = await settings_of(session, brand.id, now=now)
    others = await brand_currencies(session, brand.id) - {data.currency}
    if others:
        raise InvalidInput("errors.commerce.currency", currencies=", ".join(sorted(others)))
    found.currency = data.currency
    found.flat_rate = data.flat_rate
    found.free_above = data.free_above
    found.pickup_stores = [s.model_dump() for s in data.pickup_stores]
    found.tax_rate_bp = round(data.tax_rate_percent * 100)
    found.tax_included = data.tax_included
    found.shop_checkout_url = data.shop_checkout_url
    found.updated_at = now
    return commerce_out(found)


def payments_offered(found: CommerceSettings) -> list[PaymentName]:
    return [name for name, provider in PROVIDERS.items() if provider.offered(found)]  # type: ignore[misc]


async def shipping_options(session: AsyncSession, *, brand_slug: str, now: datetime) -> ShippingOptions:
    """What a buyer may choose at checkout, for the checkout form."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    found = await settings_of(session, brand.id, now=now)
    out = commerce_out(found)
    return ShippingOptions(
        **out.model_dump(include={"currency", "flat_rate", "free_above", "pickup_stores", "tax_rate_percent"}),
        tax_included=out.tax_included,
        payments=payments_offered(found),
    )


def pickup_store(found: CommerceSettings, store_id: str) -> PickupStore:
    for store in found.pickup_stores:
        if store["id"] == store_id:
            return PickupStore.model_validate(store)
    raise InvalidInput("errors.commerce.no_store", store_id=store_id)


def _share(amount: int, numerator: int, denominator: int) -> int:
    """amount * numerator / denominator, rounded half up, in integers (no float cents)."""
    return (2 * amount * numerator + denominator) // (2 * denominator)


def totals(found: CommerceSettings, *, items: int, shipping: Delivery | Pickup) -> Totals:
    """The full price of a cart: items, shipping by the brand's rules, tax included or added."""
    if isinstance(shipping, Pickup):
        pickup_store(found, shipping.store_id)
        shipping_total = 0
    elif found.free_above is not None and items >= found.free_above:
        shipping_total = 0
    else:
        shipping_total = found.flat_rate if items > 0 else 0
    base = items + shipping_total
    if found.tax_included:
        tax = base - _share(base, 10_000, 10_000 + found.tax_rate_bp)
        total = base
    else:
        tax = _share(base, found.tax_rate_bp, 10_000)
        total = base + tax
    return Totals(
        items=items,
        shipping=shipping_total,
        tax=tax,
        tax_included=found.tax_included,
        total=total,
        currency=found.currency,
    )
