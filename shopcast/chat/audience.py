"""Who watched and how they reacted: watch sessions (join to leave) and reaction totals.

Watch sessions are facts (core/facts.py): a join or a leave only queues its row, written with the
next batch, so a rush of joins costs the database a few statements, not one round trip each. What
reads them (the audience, a draw's eligibility, the reports) writes what waits first; a process that
dies loses the watch sessions of its last batch at most."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.chat.identity import Chatter
from shopcast.chat.models import ReactionTotal, WatchSession
from shopcast.chat.schemas import AudienceOut
from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.facts import Facts
from shopcast.core.ids import new_id
from shopcast.core.security import Principal, authorize
from shopcast.live import service as live


def start_watching(facts: Facts, *, episode_id: uuid.UUID, chatter: Chatter, node: str, now: datetime) -> uuid.UUID:
    """Note that a viewer's connection came into the room on process `node` (written with the next
    batch of facts)."""
    watch_id = new_id()
    row = {"id": watch_id, "episode_id": episode_id, "viewer_kind": chatter.kind, "viewer_id": chatter.id}
    facts.record(WatchSession.__table__, {**row, "joined_at": now, "left_at": None, "node": node})
    return watch_id


def stop_watching(facts: Facts, *, watch_ids: list[uuid.UUID], now: datetime) -> None:
    """Note that these connections left the room."""
    for watch_id in watch_ids:
        facts.amend(WatchSession.__table__, watch_id, {"left_at": now})


async def audience(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, viewers_now: int, now: datetime
) -> AudienceOut:
    """Watch time in the live room so far (sessions still open count up to now)."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id)
    sessions = list(
        await session.execute(
            select(
                WatchSession.viewer_kind, WatchSession.viewer_id, WatchSession.joined_at, WatchSession.left_at
            ).where(WatchSession.episode_id == episode_id, WatchSession.replay.is_(False))
        )
    )
    viewers = {(kind, viewer_id) for kind, viewer_id, _, _ in sessions}
    seconds = sum(max(0.0, ((left or now) - joined).total_seconds()) for _, _, joined, left in sessions)
    return AudienceOut(
        viewers_now=viewers_now,
        unique_viewers=len(viewers),
        watch_seconds=round(seconds),
        average_watch_seconds=round(seconds / len(viewers)) if viewers else 0,
    )


async def present_viewers(session: AsyncSession, *, episode_id: uuid.UUID) -> set[tuple[str, uuid.UUID]]:
    """(kind, id) of every viewer in the episode's room now (a watch session still open)."""
    query = select(WatchSession.viewer_kind, WatchSession.viewer_id).where(
        WatchSession.episode_id == episode_id, WatchSession.left_at.is_(None)
    )
    return {(kind, viewer_id) for kind, viewer_id in await session.execute(query)}


async def watch_seconds_by_viewer(
    session: AsyncSession, *, episode_id: uuid.UUID, now: datetime
) -> dict[tuple[str, uuid.UUID], float]:
    """Time each viewer spent in the episode's room (open sessions count to now; two tabs at once count once)."""
    rows = await session.execute(
        select(WatchSession.viewer_kind, WatchSession.viewer_id, WatchSession.joined_at, WatchSession.left_at)
        .where(WatchSession.episode_id == episode_id, WatchSession.replay.is_(False))
        .order_by(WatchSession.joined_at)
    )
    spans: dict[tuple[str, uuid.UUID], list[tuple[datetime, datetime]]] = {}
    for kind, viewer_id, joined, left in rows:
        spans.setdefault((kind, viewer_id), []).append((joined, max(joined, left or now)))
    watched = {}
    for viewer, intervals in spans.items():
        total, end = 0.0, None
        for start, stop in intervals:  # sorted by start: add what each adds past the last end
            begin = start if end is None else max(start, end)
            if stop > begin:
                total += (stop - begin).total_seconds()
            end = stop if end is None else max(end, stop)
        watched[viewer] = total
    return watched


async def add_reactions(session: AsyncSession, *, episode_id: uuid.UUID, counts: dict[str, int]) -> None:
    """Add counted reactions to the episode's totals."""
    for emoji, count in counts.items():
        # Two processes may count the first reaction of an episode at once: create, then add.
        await session.execute(
            insert_ignoring_duplicates(session, ReactionTotal.__table__).values(
                episode_id=episode_id, emoji=emoji, count=0
            )
        )
        await session.execute(
            update(ReactionTotal)
            .where(ReactionTotal.episode_id == episode_id, ReactionTotal.emoji == emoji)
            .values(count=ReactionTotal.count + count)
            .execution_options(synchronize_session=False)
        )


async def reaction_totals(session: AsyncSession, *, episode_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(
        select(ReactionTotal.emoji, func.sum(ReactionTotal.count))
        .where(ReactionTotal.episode_id == episode_id)
        .group_by(ReactionTotal.emoji)
    )
    return {emoji: int(count) for emoji, count in rows}
