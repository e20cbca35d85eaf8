"""Taps on the pin sold together: the viewers of one live tapping "add" on one variant at once.

When a host pins a product and a thousand viewers tap within a second for fifty pieces, each tap
sold in a transaction of its own costs a dozen round trips to the database, one after the other at
the variant's row. Here the taps waiting at a variant are sold in one transaction: the variant read
once, every buyer's cart and line written by one statement each, every line read back by one, and
the units taken by one conditional UPDATE of the stock for all of them, last, right before the commit
(`WHERE stock >= k`: never below zero, whoever else sells the variant meanwhile). The taps that fit in
the stock read are sold, in the order they came; the others are refused with the stock left after
the commit, so once the variant is at zero every later tap is refused from its sold-out mark.

Only the plain case is sold together: the episode live, no flash deal running on the pin, every line
within its limit and the stock as read. Anything else (`SellAlone`) rolls the batch back and each tap
goes through `cart.add` on its own, as if it had come alone: the same checks and the same answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import cart, stock
from shopcast.catalog.models import Cart, CartItem
from shopcast.catalog.schemas import MAX_LINE_QUANTITY, CartOut
from shopcast.catalog.sold_out import marks_in
from shopcast.core.bus import Bus
from shopcast.core.db import upsert
from shopcast.core.errors import ShopcastError
from shopcast.core.facts import Facts
from shopcast.core.ids import new_id
from shopcast.core.security import Principal
from shopcast.live.lifecycle import EpisodeStatus


@dataclass(frozen=True)
class Tap:
    """One viewer's "add" on the pinned variant."""

    actor: Principal
    quantity: int


class SellAlone(Exception):
    """The taps cannot be sold together (nothing of the batch is written): each goes on its own."""


_carts = Cart.__table__


async def _touch_carts(
    session: AsyncSession, brand_id: uuid.UUID, shoppers: list[cart.Shopper], now: datetime
) -> dict[cart.Shopper, uuid.UUID]:
    """Each shopper's cart in the brand, marked as changed now; those without one get one."""
    rows = [
        {
            "id": new_id(),
            "brand_id": brand_id,
            "owner_kind": s.kind,
            "owner_id": s.id,
            "created_at": now,
            "updated_at": now,
        }
        for s in sorted(shoppers, key=lambda s: (s.kind, s.id))  # one order of row locks for every batch
    ]
    insert = upsert(session, _carts).values(rows)
    made = insert.on_conflict_do_update(
        index_elements=[_carts.c.brand_id, _carts.c.owner_kind, _carts.c.owner_id],
        set_={"updated_at": insert.excluded.updated_at},
    ).returning(_carts.c.id, _carts.c.owner_kind, _carts.c.owner_id)
    return {cart.Shopper(kind, owner): cart_id for cart_id, kind, owner in await session.execute(made)}


async def add_together(
    session: AsyncSession,
    *,
    brand_id: uuid.UUID,
    variant_id: uuid.UUID,
    episode_id: uuid.UUID,
    taps: Sequence[Tap],
    now: datetime,
    bus: Bus,
    facts: Facts,
    hold_minutes: int,
) -> list[CartOut | ShopcastError]:
    """Sell the taps of one live on one variant of the brand together (one buyer each); for each in
    order, the buyer's cart or why not. Raises `SellAlone` when they must be sold one by one."""
    marks = marks_in(session)
    try:
        product, variant, episode = await cart.variant_in(session, brand_id, variant_id, episode_id)
    except ShopcastError as error:  # the same for every tap: no such variant, not for sale
        return [error] * len(taps)
    what = cart.described(product, variant)
    if marks is not None:
        marks.described(variant.id, (brand_id, product.brand_id), what)
    if episode is None or episode.status != EpisodeStatus.LIVE:
        raise SellAlone
    sold: list[int] = []  # the taps that fit in the stock read, in the order they came
    room = variant.stock
    for n, tap in enumerate(taps):
        if tap.quantity <= room:
            sold.append(n)
            room -= tap.quantity
    if not sold:  # too late for all: refused before writing anything
        if variant.stock == 0 and marks is not None:
            marks.seen(variant.id, now)
        return [cart.refusal(what, variant.id, variant.stock)] * len(taps)
    if await cart.live_deal(session, episode.id, product.id, now) is not None:
        raise SellAlone  # each tap claims its units of the deal, or not, on its own line

    buyers = [cart.shopper(taps[n].actor) for n in sold]
    carts = await _touch_carts(session, product.brand_id, buyers, now)
    rows = [
        cart.new_line(
            carts[buyer],
            variant.id,
            episode.id,
            taps[n].quantity,
            held=taps[n].quantity,
            now=now,
            hold_minutes=hold_minutes,
        )
        for n, buyer in zip(sold, buyers, strict=True)
    ]
    rows.sort(key=lambda row: row["cart_id"])  # one order of row locks for every batch
    added = cart.onto_line(upsert(session, CartItem.__table__).values(rows))
    totals = await session.execute(added.returning(CartItem.cart_id, CartItem.quantity))
    if any(total > MAX_LINE_QUANTITY for _, total in totals):
        raise SellAlone  # that buyer's tap is refused on its own, the others sold on theirs
    lines = await cart.lines_of_carts(session, [carts[buyer] for buyer in buyers])
    if any(cart.any_expired(found, now) for found in lines.values()):
        raise SellAlone  # a buyer's expired hold is released on their own tap first

    left = await stock.take(session, variant.id, sum(taps[n].quantity for n in sold))
    if left is None:
        raise SellAlone  # units went elsewhere since the reading (another process, an HTTP add)
    answers: list[CartOut | ShopcastError] = [cart.refusal(what, variant.id, left)] * len(taps)
    for n, buyer in zip(sold, buyers, strict=True):
        cart_id = carts[buyer]
        shown = cart.cart_of_lines(
            lines[cart_id], cart_id, product.brand_id, currency=product.currency, hold_minutes=hold_minutes
        )
        cart.taken(session, bus, shown, variant, left, marks=marks, now=now)
        cart.record_addition(session, facts, episode.id, variant, buyer, taps[n].quantity, now)
        answers[n] = shown
    return answers
