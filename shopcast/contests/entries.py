"""Entering a giveaway in the live room (the player's button or the chat keyword), and what the room
shows of it: the join snapshot and the entry counts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.chat import service as chat
from shopcast.chat.identity import Chatter
from shopcast.contests.models import Giveaway, GiveawayEntry
from shopcast.contests.schemas import Drawn, DrawnWinner, EntryOut, GiveawaySnapshot
from shopcast.contests.service import entry_count, public_out, winners_of
from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import Conflict, Forbidden, NotFound, Phrase, ShopcastError, Unauthorized

Viewer = tuple[str, uuid.UUID]


async def _current(session: AsyncSession, episode_id: uuid.UUID) -> Giveaway | None:
    """The episode's giveaway to show: the open one, else the last one opened."""
    return await session.scalar(
        select(Giveaway)
        .where(Giveaway.episode_id == episode_id, Giveaway.status != "draft")
        .order_by((Giveaway.status == "open").desc(), Giveaway.opened_at.desc())
        .limit(1)
    )


async def entry_of(session: AsyncSession, giveaway_id: uuid.UUID, viewer: Viewer) -> GiveawayEntry | None:
    return await session.scalar(
        select(GiveawayEntry).where(
            GiveawayEntry.giveaway_id == giveaway_id,
            GiveawayEntry.viewer_kind == viewer[0],
            GiveawayEntry.viewer_id == viewer[1],
        )
    )


async def snapshot(session: AsyncSession, *, episode_id: uuid.UUID) -> GiveawaySnapshot | None:
    """The giveaway in the room's join snapshot, with the winners once drawn (each joining viewer's own
    entry is theirs to add: `entries_of`)."""
    giveaway = await _current(session, episode_id)
    if giveaway is None:
        return None
    drawn = None
    if giveaway.status == "drawn" and giveaway.seed is not None:
        winners = await winners_of(session, giveaway.id)
        drawn = Drawn(
            round=max(w.round for w, _ in winners),
            seed=giveaway.seed,
            winners=[DrawnWinner(entry_id=w.entry_id, name=name) for w, name in winners if w.redrawn_in is None],
        )
    public = public_out(giveaway, await entry_count(session, giveaway.id))
    return GiveawaySnapshot(**public.model_dump(), my_entry_id=None, drawn=drawn)


async def entries_of(
    session: AsyncSession, *, giveaway_id: uuid.UUID, viewers: Sequence[Viewer]
) -> dict[Viewer, uuid.UUID]:
    """The entry id of each of these viewers who entered the giveaway (one query for all)."""
    if not viewers:
        return {}
    rows = await session.execute(
        select(GiveawayEntry.viewer_kind, GiveawayEntry.viewer_id, GiveawayEntry.id).where(
            GiveawayEntry.giveaway_id == giveaway_id,
            tuple_(GiveawayEntry.viewer_kind, GiveawayEntry.viewer_id).in_(set(viewers)),
        )
    )
    return {(kind, viewer_id): entry_id for kind, viewer_id, entry_id in rows}


async def enter_many(
    session: AsyncSession,
    *,
    episode_id: uuid.UUID,
    giveaway_id: uuid.UUID,
    chatters: Sequence[Chatter],
    now: datetime,
) -> list[EntryOut | ShopcastError]:
    """Enter different viewers (accounts or guests) in an open giveaway of the episode, once each:
    for each, the entry or the reason it alone is refused. A few statements for the whole batch."""
    giveaway = await session.get(Giveaway, giveaway_id)
    if giveaway is None or giveaway.episode_id != episode_id or giveaway.status == "draft":
        raise NotFound("errors.giveaway.none_here", giveaway_id=giveaway_id)
    restrictions = await chat.restrictions_of_many(session, brand_id=giveaway.brand_id, chatters=chatters, now=now)
    results: list[EntryOut | ShopcastError] = []
    for chatter in chatters:
        try:
            if chatter.is_anonymous:
                raise Unauthorized("errors.giveaway.sign_in")
            if chatter.is_staff:
                raise Forbidden("errors.giveaway.staff")
            if giveaway.status != "open":
                raise Conflict("errors.giveaway.entries_closed")
            restricted = restrictions.get((chatter.kind, chatter.id), {})
            chat.refuse_restricted(restricted, now=now, action=Phrase("errors.giveaway.to_enter"))
            results.append(EntryOut(id=uuid.uuid4(), giveaway_id=giveaway.id))
        except ShopcastError as refused:
            results.append(refused)
    wanted = [(c, r) for c, r in zip(chatters, results, strict=True) if isinstance(r, EntryOut)]
    if wanted:
        added = set(
            await session.scalars(
                insert_ignoring_duplicates(session, GiveawayEntry.__table__).returning(GiveawayEntry.__table__.c.id),
                [_entry_row(giveaway.id, chatter, entry.id, now) for chatter, entry in wanted],
            )
        )
        for i, result in enumerate(results):
            if isinstance(result, EntryOut) and result.id not in added:
                results[i] = Conflict("errors.giveaway.entered")
    return results


def _entry_row(giveaway_id: uuid.UUID, chatter: Chatter, entry_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "id": entry_id,
        "giveaway_id": giveaway_id,
        "viewer_kind": chatter.kind,
        "viewer_id": chatter.id,
        "viewer_name": chatter.name[:80],
        "created_at": now,
    }


async def _add_entry(session: AsyncSession, giveaway_id: uuid.UUID, chatter: Chatter, now: datetime) -> EntryOut | None:
    """The new entry, or None when the viewer had one (two taps at once make one entry)."""
    entry_id = await session.scalar(
        insert_ignoring_duplicates(session, GiveawayEntry.__table__)
        .values(**_entry_row(giveaway_id, chatter, uuid.uuid4(), now))
        .returning(GiveawayEntry.__table__.c.id)
    )
    return None if entry_id is None else EntryOut(id=entry_id, giveaway_id=giveaway_id)


def is_keyword(text: str, keyword: str) -> bool:
    return text.strip().casefold() == keyword.strip().casefold()


@dataclass(frozen=True)
class KeywordGiveaway:
    """The episode's open giveaway entered by saying its keyword in the chat."""

    id: uuid.UUID
    keyword: str


def keyword_giveaway_columns(episode_id: uuid.UUID) -> tuple[ScalarSelect[uuid.UUID], ScalarSelect[str]]:
    """The id and keyword of the episode's open keyword giveaway (NULL without one), as subqueries: a chat
    message reads them with its own checks, in one statement (chat.sending.send_message's `read_along`)."""
    open_keyword = (
        select(Giveaway.id)
        .where(Giveaway.episode_id == episode_id, Giveaway.status == "open", Giveaway.entry == "keyword")
        .order_by(Giveaway.id)
        .limit(1)
    )
    keyword = open_keyword.with_only_columns(Giveaway.keyword)
    return open_keyword.scalar_subquery(), keyword.scalar_subquery()


def keyword_giveaway(giveaway_id: uuid.UUID | None, keyword: str | None) -> KeywordGiveaway | None:
    """The giveaway from the values of `keyword_giveaway_columns`."""
    return KeywordGiveaway(giveaway_id, keyword) if giveaway_id is not None and keyword is not None else None


async def enter_by_keyword(
    session: AsyncSession, *, giveaway: KeywordGiveaway | None, chatter: Chatter, text: str, now: datetime
) -> EntryOut | None:
    """The viewer's entry when a chat message is the keyword of `giveaway`, made now or before."""
    if chatter.is_anonymous or chatter.is_staff:
        return None
    if giveaway is None or not is_keyword(text, giveaway.keyword):
        return None
    # The message got through: the sender is neither banned nor timed out.
    entry = await _add_entry(session, giveaway.id, chatter, now)
    if entry is None:
        found = await entry_of(session, giveaway.id, (chatter.kind, chatter.id))
        entry = EntryOut(id=found.id, giveaway_id=giveaway.id) if found is not None else None
    return entry


async def open_entry_counts(
    session: AsyncSession, *, episode_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, int]]:
    """For each of these episodes with a giveaway taking entries: (its id, its entries so far)."""
    if not episode_ids:
        return {}
    rows = await session.execute(
        select(Giveaway.episode_id, Giveaway.id, func.count(GiveawayEntry.id))
        .outerjoin(GiveawayEntry, GiveawayEntry.giveaway_id == Giveaway.id)
        .where(Giveaway.episode_id.in_(episode_ids), Giveaway.status == "open")
        .group_by(Giveaway.episode_id, Giveaway.id)
    )
    return {episode_id: (giveaway_id, int(count)) for episode_id, giveaway_id, count in rows}


async def participation(session: AsyncSession, *, episode_id: uuid.UUID) -> tuple[int, int]:
    """The episode's giveaways opened to entries, and their entries."""
    opened = select(Giveaway.id).where(Giveaway.episode_id == episode_id, Giveaway.status != "draft")
    giveaways = await session.scalar(select(func.count()).select_from(opened.subquery()))
    entries = await session.scalar(select(func.count()).where(GiveawayEntry.giveaway_id.in_(opened)))
    return int(giveaways or 0), int(entries or 0)
