"""Carts left after the show: the email a viewer typed at checkout without ordering is kept on their cart,
and a cart still holding items the brand's `cart_follow_up_minutes` after its episode ended (and after
the viewer last changed it) gets one follow-up email: back to the cart, and to the replay at the moment
each product was shown. A placed order empties the cart, so it gets none.

Run by the outbox worker every SHOPCAST_OUTBOX_SWEEP_SECONDS. A cart's one follow-up is claimed by a
conditional UPDATE (`followed_up_at` was empty) in the transaction that queues its email and its
`cart.abandoned` webhook: two workers never both send it, a rollback sends neither.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.catalog import cart as carts
from shopcast.catalog.models import Cart, CartItem, Pin, Product, Variant
from shopcast.catalog.products import ONE_SIZE, variant_label, variant_price
from shopcast.core.catalogues import languages
from shopcast.core.db import Database
from shopcast.core.security import Principal
from shopcast.live.models import Episode
from shopcast.reminders.contacts import Links, contact_for, normal, write
from shopcast.webhooks import service as webhooks
from shopcast.webhooks.events import CartAbandoned, CartLine

BATCH = 100  # carts looked at per brand and sweep
# Carts whose episode ended longer ago are let be: a brand turning follow-ups on does not write about
# last month's shows.
RECENT = timedelta(days=7)


async def remember_email(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, email: str, language: str | None, now: datetime
) -> None:
    """The viewer started checking out with this email: kept on their cart in the brand, if they have one,
    with the page's language (for the cart's follow-up)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    who = carts.shopper(actor)
    await session.execute(
        update(Cart)
        .where(Cart.brand_id == brand.id, Cart.owner_kind == who.kind, Cart.owner_id == who.id)
        .values(
            email=normal(email),
            email_language=language if language in languages() else brand.default_language,
            email_at=now,
        )
        .execution_options(synchronize_session=False)
    )


async def sweep(database: Database, *, now: datetime, links: Links) -> int:
    """Follow up every cart left long enough; how many emails were queued."""
    async with database.transaction() as session:
        delays = (
            await session.execute(
                select(Brand.id, Brand.cart_follow_up_minutes).where(Brand.cart_follow_up_minutes.is_not(None))
            )
        ).all()
        due = [
            cart_id
            for brand_id, minutes in delays
            for cart_id in await _left(session, brand_id, cutoff=now - timedelta(minutes=minutes))
        ]
    queued = 0
    for cart_id in due:
        async with database.transaction() as session:
            queued += await _follow_up(session, cart_id, now=now, links=links)
    return queued


async def _left(session: AsyncSession, brand_id: uuid.UUID, *, cutoff: datetime) -> list[uuid.UUID]:
    """The brand's carts with an email and items whose episodes all ended before `cutoff` (recently),
    unchanged since then and not followed up yet."""
    ended = func.max(Episode.ended_at)
    query = (
        select(Cart.id)
        .join(CartItem, CartItem.cart_id == Cart.id)
        .join(Episode, Episode.id == CartItem.episode_id)
        .where(
            Cart.brand_id == brand_id,
            Cart.email.is_not(None),
            Cart.followed_up_at.is_(None),
            Cart.updated_at <= cutoff,
        )
        .group_by(Cart.id)
        # count(ended_at) counts the lines whose episode has ended: all of them.
        .having(func.count(Episode.ended_at) == func.count(), ended <= cutoff, ended > cutoff - RECENT)
        .limit(BATCH)
    )
    return list(await session.scalars(query))


async def _follow_up(session: AsyncSession, cart_id: uuid.UUID, *, now: datetime, links: Links) -> int:
    """The cart's one follow-up, unless it was followed up meanwhile, emptied, or its address unsubscribed."""
    claimed = (
        await session.execute(
            update(Cart)
            .where(Cart.id == cart_id, Cart.followed_up_at.is_(None), Cart.email.is_not(None))
            .values(followed_up_at=now)
            .returning(Cart.brand_id, Cart.email, Cart.email_language)
        )
    ).first()
    if claimed is None:
        return 0
    brand_id, email, language = claimed
    rows = await carts.lines(session, cart_id)
    if not rows:
        return 0  # ordered meanwhile
    brand = await accounts.get_brand_by_id(session, brand_id=brand_id)
    language = language or brand.default_language
    contact = await contact_for(session, brand_id=brand_id, email=email, language=language, now=now)
    if contact.unsubscribed_at is not None:
        return 0
    items = await _items(session, rows, links)
    # Back to the cart on the watch page of the last episode something was put in it from.
    episode_id = max((line for line, _, _ in rows if line.episode_id), key=lambda line: line.added_at).episode_id
    context = {
        "items": items,
        "currency": rows[0][2].currency,
        "cart_url": links.page(f"/watch/{episode_id}", cart="open"),
    }
    await write(
        session,
        contact=contact,
        brand_name=brand.name,
        language=language,
        template="cart_follow_up",
        context=context,
        links=links,
        now=now,
        about=f"cart:{cart_id}",
    )
    await announce_abandoned_cart(
        session,
        brand_id=brand_id,
        cart_id=cart_id,
        email=contact.email,
        episode_id=episode_id,
        context=context,
        now=now,
    )
    return 1


async def _items(
    session: AsyncSession, rows: list[tuple[CartItem, Variant, Product]], links: Links
) -> list[dict[str, Any]]:
    """The cart's lines for the email, each with its replay link at the moment its product was shown."""
    moments = await _moments(session, {(line.episode_id, product.id) for line, _, product in rows if line.episode_id})
    items = []
    for line, variant, product in rows:
        label = variant_label(variant.options)
        replay_url = None
        if line.episode_id is not None:
            at = moments.get((line.episode_id, product.id))
            replay_url = links.page(f"/watch/{line.episode_id}", **({"t": at} if at is not None else {}))
        unit_price = variant_price(product, variant)
        items.append(
            {
                "product_id": product.id,
                "variant_id": variant.id,
                "sku": variant.sku,
                "title": product.title,
                "label": "" if label == ONE_SIZE else label,
                "quantity": line.quantity,
                "unit_price": unit_price,
                "line_total": line.quantity * unit_price,
                "replay_url": replay_url,
            }
        )
    return items


async def _moments(
    session: AsyncSession, shown: set[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Seconds into each episode's replay at which each product was first pinned (the replay starts at go-live)."""
    if not shown:
        return {}
    episode_ids, product_ids = {e for e, _ in shown}, {p for _, p in shown}
    went_live = dict(
        (await session.execute(select(Episode.id, Episode.went_live_at).where(Episode.id.in_(episode_ids)))).all()
    )
    first_pins = await session.execute(
        select(Pin.episode_id, Pin.product_id, func.min(Pin.shown_at))
        .where(Pin.episode_id.in_(episode_ids), Pin.product_id.in_(product_ids))
        .group_by(Pin.episode_id, Pin.product_id)
    )
    moments = {}
    for episode_id, product_id, shown_at in first_pins:
        start = went_live.get(episode_id)
        if start is not None and shown_at is not None:
            moments[(episode_id, product_id)] = max(0, int((shown_at - start).total_seconds()))
    return moments


async def announce_abandoned_cart(
    session: AsyncSession,
    *,
    brand_id: uuid.UUID,
    cart_id: uuid.UUID,
    email: str,
    episode_id: uuid.UUID | None,
    context: dict[str, Any],
    now: datetime,
) -> None:
    """The `cart.abandoned` webhook of the cart's one follow-up, queued in its transaction: the one place
    it is emitted from, and never for an address that unsubscribed (its caller returns before)."""
    lines = [
        CartLine(
            product_id=item["product_id"],
            variant_id=item["variant_id"],
            sku=item["sku"],
            title=item["title"],
            label=item["label"],
            quantity=item["quantity"],
            unit_price=item["unit_price"],
        )
        for item in context["items"]
    ]
    cart = CartAbandoned(
        cart_id=cart_id,
        email=email,
        name="",  # a cart keeps only the email typed at checkout
        items=lines,
        subtotal=sum(item["line_total"] for item in context["items"]),
        currency=context["currency"],
        episode_id=episode_id,
        cart_url=context["cart_url"],
    )
    await webhooks.cart_abandoned(session, brand_id=brand_id, cart=cart, now=now)
