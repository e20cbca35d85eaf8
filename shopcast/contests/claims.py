"""A winner's side of a giveaway: what they won, and the claim of the prize before its deadline."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog.commerce import pickup_store, settings_of
from shopcast.catalog.schemas import PickupStore
from shopcast.contests.entries import entry_of
from shopcast.contests.models import Giveaway, GiveawayEntry, GiveawayWinner
from shopcast.contests.schemas import ClaimIn, ClaimOut, MyGiveaway
from shopcast.contests.service import claim_status, load_giveaway
from shopcast.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from shopcast.core.security import Principal, signed_in

CLAIM_FIELDS = ["email", "delivery", "pickup_store_id"]


async def _visible(session: AsyncSession, giveaway_id: uuid.UUID) -> Giveaway:
    giveaway = await load_giveaway(session, giveaway_id)
    if giveaway.status == "draft":
        raise NotFound("errors.giveaway.none", giveaway_id=giveaway_id)
    return giveaway


async def _mine(
    session: AsyncSession, giveaway: Giveaway, actor: Principal
) -> tuple[GiveawayEntry | None, GiveawayWinner | None]:
    entry = await entry_of(session, giveaway.id, (actor.kind, actor.id))
    if entry is None:
        return None, None
    winner = await session.scalar(select(GiveawayWinner).where(GiveawayWinner.entry_id == entry.id))
    return entry, winner


async def _stores(session: AsyncSession, giveaway: Giveaway, now: datetime) -> list[PickupStore]:
    found = await settings_of(session, giveaway.brand_id, now=now)
    return [PickupStore.model_validate(s) for s in found.pickup_stores]


async def my_giveaway(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, now: datetime
) -> MyGiveaway:
    """The caller's entry and, if it won, the claim form and its deadline."""
    actor = signed_in(actor)
    giveaway = await _visible(session, giveaway_id)
    entry, winner = await _mine(session, giveaway, actor)
    if winner is None:
        return MyGiveaway(entry_id=entry.id if entry else None, won=False, claim=None)
    assert entry is not None
    claim = ClaimOut(
        deadline=winner.claim_deadline,
        status=claim_status(winner, now),  # type: ignore[arg-type]
        fields=CLAIM_FIELDS,
        pickup_stores=await _stores(session, giveaway, now),
        claimed_at=winner.claimed_at,
        claim=winner.claim,
    )
    return MyGiveaway(entry_id=entry.id, won=True, claim=claim)


async def claim_prize(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, data: ClaimIn, now: datetime
) -> MyGiveaway:
    """Claim a prize won (the winning identity only, before the deadline): where to send it."""
    actor = signed_in(actor)
    giveaway = await _visible(session, giveaway_id)
    _, winner = await _mine(session, giveaway, actor)
    if winner is None:
        raise Forbidden("errors.giveaway.not_yours")
    if winner.claimed_at is not None:
        raise Conflict("errors.giveaway.claimed")
    if claim_status(winner, now) == "expired":
        raise Conflict("errors.giveaway.deadline")
    if data.pickup_store_id is not None:
        found = await settings_of(session, giveaway.brand_id, now=now)
        try:
            pickup_store(found, data.pickup_store_id)
        except InvalidInput:
            raise InvalidInput("errors.giveaway.no_store", store_id=data.pickup_store_id) from None
    claimed = await session.execute(
        update(GiveawayWinner)
        .where(GiveawayWinner.id == winner.id, GiveawayWinner.claimed_at.is_(None), GiveawayWinner.redrawn_in.is_(None))
        .values(claimed_at=now, claim=data.model_dump(mode="json"))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("errors.giveaway.claimed_meanwhile")
    await session.refresh(winner)
    return await my_giveaway(session, actor=actor, giveaway_id=giveaway_id, now=now)
