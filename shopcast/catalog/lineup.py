"""An episode's lineup and its pins: the product over the video now, and the history the replay shows."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import deals
from shopcast.catalog.events import DEAL_STARTED, PIN_HIDDEN, PIN_SHOWN
from shopcast.catalog.models import LineupEntry, Order, OrderLine, Pin, Product
from shopcast.catalog.products import cards, load_product
from shopcast.catalog.schemas import PinHidden, PinOut, ProductCard
from shopcast.core.bus import Bus
from shopcast.core.errors import Conflict, InvalidInput, NotFound
from shopcast.core.security import Principal, authorize
from shopcast.live import service as live
from shopcast.live.events import tell_room
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode
from shopcast.live.service import ON_AIR

MAX_LINEUP = 200


# --- the lineup ------------------------------------------------------------------------------


async def _lineup_products(session: AsyncSession, episode_id: uuid.UUID) -> list[Product]:
    return list(
        await session.scalars(
            select(Product)
            .join(LineupEntry, LineupEntry.product_id == Product.id)
            .where(LineupEntry.episode_id == episode_id, Product.archived.is_(False))
            .order_by(LineupEntry.position)
        )
    )


async def set_lineup(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, product_ids: list[uuid.UUID]
) -> list[ProductCard]:
    """Replace the episode's lineup with these products, in this order (its hosts and managers)."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *ON_AIR)
    if len(set(product_ids)) != len(product_ids):
        raise InvalidInput("errors.lineup.each_once")
    found = {
        p.id: p
        for p in await session.scalars(
            select(Product).where(
                Product.id.in_(product_ids), Product.brand_id == episode.brand_id, Product.archived.is_(False)
            )
        )
    }
    missing = [str(p) for p in product_ids if p not in found]
    if missing:
        raise InvalidInput("errors.lineup.not_on_sale", ids=", ".join(missing))
    await session.execute(delete(LineupEntry).where(LineupEntry.episode_id == episode_id))
    session.add_all(LineupEntry(episode_id=episode_id, product_id=p, position=i) for i, p in enumerate(product_ids))
    await session.flush()
    return await cards(session, [found[p] for p in product_ids])


async def public_lineup(session: AsyncSession, *, episode_id: uuid.UUID) -> list[ProductCard]:
    await live.load_episode(session, episode_id)  # 404 if unknown
    return await cards(session, await _lineup_products(session, episode_id))


async def cover_picture(session: AsyncSession, *, episode_id: uuid.UUID) -> str | None:
    """The first picture of the first product of the lineup that has one (a link preview's cover)."""
    for urls in await session.scalars(
        select(Product.image_urls)
        .join(LineupEntry, LineupEntry.product_id == Product.id)
        .where(LineupEntry.episode_id == episode_id, Product.archived.is_(False))
        .order_by(LineupEntry.position)
    ):
        if urls:
            return str(urls[0])
    return None


async def _append_to_lineup(session: AsyncSession, episode_id: uuid.UUID, product_id: uuid.UUID) -> None:
    if await session.get(LineupEntry, (episode_id, product_id)) is not None:
        return
    last = await session.scalar(select(func.max(LineupEntry.position)).where(LineupEntry.episode_id == episode_id))
    session.add(LineupEntry(episode_id=episode_id, product_id=product_id, position=(last or 0) + 1))


async def drop_product(session: AsyncSession, product_id: uuid.UUID) -> None:
    """An archived product leaves every lineup (its pins stay in the history)."""
    await session.execute(delete(LineupEntry).where(LineupEntry.product_id == product_id))


# --- sales during the episode ----------------------------------------------------------------


async def bought(session: AsyncSession, episode_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Units bought per product during the episode (orders not cancelled)."""
    rows = await session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.episode_id == episode_id, Order.status != "cancelled")
        .group_by(OrderLine.product_id)
    )
    return {product_id: int(units) for product_id, units in rows}


async def buyers(
    session: AsyncSession, *, episode_id: uuid.UUID, since: datetime, until: datetime
) -> set[tuple[str, uuid.UUID]]:
    """(kind, id) of every buyer with an order from the episode placed between `since` and `until` (not cancelled)."""
    rows = await session.execute(
        select(Order.buyer_kind, Order.buyer_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            OrderLine.episode_id == episode_id,
            Order.status != "cancelled",
            Order.created_at >= since,
            Order.created_at <= until,
        )
        .distinct()
    )
    return {(kind, buyer_id) for kind, buyer_id in rows}


# --- pins ------------------------------------------------------------------------------------


async def pins_out(session: AsyncSession, pins: list[Pin], *, now: datetime) -> list[PinOut]:
    products = {
        p.id: p for p in await session.scalars(select(Product).where(Product.id.in_({p.product_id for p in pins})))
    }
    shown = {c.id: c for c in await cards(session, list(products.values()))}
    sales = await bought(session, pins[0].episode_id) if pins else {}
    return [
        PinOut(
            id=pin.id,
            episode_id=pin.episode_id,
            product=shown[pin.product_id],
            shown_at=pin.shown_at,
            hidden_at=pin.hidden_at,
            deal=deals.deal_out(pin, now=now),
            bought=sales.get(pin.product_id, 0),
        )
        for pin in pins
    ]


_CURRENT = (
    select(Pin)
    .where(Pin.episode_id == bindparam("episode_id"), Pin.hidden_at.is_(None))
    .order_by(Pin.shown_at.desc())
    .limit(1)
)


async def current(session: AsyncSession, episode_id: uuid.UUID) -> Pin | None:
    """The pin over the video now, if any (built once: every add to a cart during the live asks)."""
    return await session.scalar(_CURRENT, {"episode_id": episode_id})


async def current_pin(session: AsyncSession, *, episode_id: uuid.UUID, now: datetime) -> PinOut | None:
    """The pin for a joining viewer's snapshot (none once the live is over)."""
    episode = await live.load_episode(session, episode_id)
    pin = await current(session, episode_id) if episode.status == EpisodeStatus.LIVE else None
    return None if pin is None else (await pins_out(session, [pin], now=now))[0]


async def pin_history(session: AsyncSession, *, episode_id: uuid.UUID, now: datetime) -> list[PinOut]:
    """Every pin of the episode in the order shown, with its times (the replay's timeline)."""
    episode = await live.load_episode(session, episode_id)
    pins = list(await session.scalars(select(Pin).where(Pin.episode_id == episode_id).order_by(Pin.shown_at, Pin.id)))
    out = await pins_out(session, pins, now=now)
    if episode.ended_at is not None:
        # The last pin stayed up until the end of the live.
        out = [p if p.hidden_at else p.model_copy(update={"hidden_at": episode.ended_at}) for p in out]
    return out


async def _live_episode(session: AsyncSession, actor: Principal | None, episode_id: uuid.UUID) -> Episode:
    # Locked: two taps at once (two hosts, a double click) pin one product after the other.
    episode = await live.load_episode(session, episode_id, for_update=True)
    authorize(actor, episode.brand_id, *ON_AIR)
    if episode.status != EpisodeStatus.LIVE:
        raise Conflict("errors.pin.not_live", status=episode.status.word)
    return episode


async def _hide(session: AsyncSession, pin: Pin, *, now: datetime, bus: Bus) -> None:
    if deals.is_active(pin, now):
        await deals.end(session, pin, reason="stopped", now=now, bus=bus)
    pin.hidden_at = now
    hidden = PinHidden(pin_id=pin.id, product_id=pin.product_id, at=now)
    tell_room(session, bus, pin.episode_id, PIN_HIDDEN, hidden.model_dump(mode="json"))


async def show(
    session: AsyncSession, *, episode: Episode, product: Product, actor: Principal | None, now: datetime, bus: Bus
) -> Pin:
    """Pin the product over the video (the previous pin goes away), and tell every viewer."""
    shown = await current(session, episode.id)
    if shown is not None:
        await _hide(session, shown, now=now, bus=bus)
    shown_by = actor.id if actor is not None and not actor.is_guest else None
    pin = Pin(episode_id=episode.id, product_id=product.id, shown_by=shown_by, shown_at=now)
    session.add(pin)
    await _append_to_lineup(session, episode.id, product.id)
    await session.flush()
    return pin


async def show_pin(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    product_id: uuid.UUID,
    now: datetime,
    bus: Bus,
) -> PinOut:
    episode = await _live_episode(session, actor, episode_id)
    product = await load_product(session, product_id)
    if product.brand_id != episode.brand_id or product.archived:
        raise NotFound("errors.pin.no_product", product_id=product_id)
    pin = await show(session, episode=episode, product=product, actor=actor, now=now, bus=bus)
    out = (await pins_out(session, [pin], now=now))[0]
    tell_room(session, bus, episode_id, PIN_SHOWN, out.model_dump(mode="json"))
    return out


async def hide_pin(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime, bus: Bus
) -> None:
    await _live_episode(session, actor, episode_id)
    pin = await current(session, episode_id)
    if pin is None:
        raise Conflict("errors.pin.nothing")
    await _hide(session, pin, now=now, bus=bus)


async def start_deal(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    price: int,
    quantity: int,
    seconds: int,
    now: datetime,
    bus: Bus,
) -> PinOut:
    """Turn the pinned product into a flash deal. A pin that already had one is pinned afresh, so
    the history keeps each deal with its own times."""
    episode = await _live_episode(session, actor, episode_id)
    pin = await current(session, episode_id)
    if pin is None:
        raise Conflict("errors.pin.pin_first")
    product = await load_product(session, pin.product_id)
    await deals.check_price(session, product, price)
    if pin.deal_price is not None:
        pin = await show(session, episode=episode, product=product, actor=actor, now=now, bus=bus)
        repinned = True
    else:
        repinned = False
    deals.begin(pin, price=price, quantity=quantity, seconds=seconds, now=now)
    await session.flush()
    out = (await pins_out(session, [pin], now=now))[0]
    payload = out.model_dump(mode="json")
    if repinned:
        tell_room(session, bus, episode_id, PIN_SHOWN, payload)
    tell_room(session, bus, episode_id, DEAL_STARTED, payload)
    return out


async def stop_deal(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime, bus: Bus
) -> PinOut:
    await _live_episode(session, actor, episode_id)
    pin = await current(session, episode_id)
    if pin is None or not deals.is_active(pin, now):
        raise Conflict("errors.pin.no_deal")
    await deals.end(session, pin, reason="stopped", now=now, bus=bus)
    return (await pins_out(session, [pin], now=now))[0]
