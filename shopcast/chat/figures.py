"""The audience and the chat of an episode in figures, for its report, counted in SQL from the facts:
watch sessions (the live room's, join to leave; the replay's, a player's first beat to its last),
messages, reaction totals.

A viewer is an account, a guest or an anonymous connection, counted once however many tabs it had
open: each viewer's sessions are first merged where they overlap (the gaps-and-islands of window
functions), so two tabs are one viewer watching, and a reload is not two viewers in that minute.
The brand's staff are not the audience and are left out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Integer, Select, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from shopcast.chat.models import ChatMessage, ReactionTotal, WatchSession
from shopcast.core.db import dialect_of
from shopcast.core.sql_time import Period, epoch, minute, seconds


@dataclass(frozen=True)
class Audience:
    unique_viewers: int
    peak_viewers: int
    average_viewers: float
    """Viewers watching at once, on average over the period (watch time / the period's length)."""
    watch_seconds: int
    average_watch_seconds: int
    median_watch_seconds: int


@dataclass(frozen=True)
class ChatFigures:
    messages: int
    questions: int
    answered: int
    reactions: int


def _spans(
    session: AsyncSession, episode_id: uuid.UUID, period: Period, staff: set[uuid.UUID], *, replay: bool
) -> Select:
    """Each session of the period's audience (the live room's, or the replay's players'), cut to the
    period: viewer (k, v) and [a, b) in seconds."""
    dialect = dialect_of(session)
    start, end = seconds(period.start), seconds(period.end)
    joined = epoch(WatchSession.joined_at, dialect)
    left = func.coalesce(epoch(WatchSession.left_at, dialect), end)  # still watching: until the period's end
    a = case((joined > start, joined), else_=start)
    b = case((left < end, left), else_=end)
    query = select(WatchSession.viewer_kind.label("k"), WatchSession.viewer_id.label("v"), a.label("a"), b.label("b"))
    query = query.where(
        WatchSession.episode_id == episode_id,
        WatchSession.replay.is_(replay),
        WatchSession.joined_at < period.end,
        or_(WatchSession.left_at.is_(None), WatchSession.left_at > period.start),
    )
    if staff:
        query = query.where(~and_(WatchSession.viewer_kind == "user", WatchSession.viewer_id.in_(staff)))
    return query


def _islands(spans: Select) -> Select:
    """Each viewer's spans [a, b) merged where they overlap or meet: (k, v, a, b), one row per
    stretch of watching."""
    rows = spans.subquery()
    a, b = rows.c.a, rows.c.b
    viewer = (rows.c.k, rows.c.v)
    before = func.max(b).over(partition_by=viewer, order_by=(a, b), rows=(None, -1))
    marked = select(rows.c.k, rows.c.v, a.label("a"), b.label("b"), before.label("before")).where(b > a).subquery()
    starts = case((or_(marked.c.before.is_(None), marked.c.a > marked.c.before), 1), else_=0)
    island = func.sum(starts).over(
        partition_by=(marked.c.k, marked.c.v), order_by=(marked.c.a, marked.c.b), rows=(None, 0)
    )
    numbered = select(marked.c.k, marked.c.v, marked.c.a, marked.c.b, island.label("island")).subquery()
    return select(
        numbered.c.k, numbered.c.v, func.min(numbered.c.a).label("a"), func.max(numbered.c.b).label("b")
    ).group_by(numbered.c.k, numbered.c.v, numbered.c.island)


async def audience(
    session: AsyncSession, *, episode_id: uuid.UUID, period: Period, staff: set[uuid.UUID], replay: bool
) -> Audience:
    """Who watched in the period, in the live room or the `replay`: unique, peak and average viewers;
    watch time per viewer."""
    islands = _islands(_spans(session, episode_id, period, staff, replay=replay)).cte("islands")
    watched = select(func.sum(islands.c.b - islands.c.a).label("w")).group_by(islands.c.k, islands.c.v).subquery()
    viewers, total, average = (
        await session.execute(select(func.count(), func.coalesce(func.sum(watched.c.w), 0), func.avg(watched.c.w)))
    ).one()
    ranked = select(
        watched.c.w, func.row_number().over(order_by=watched.c.w).label("rn"), func.count().over().label("n")
    ).subquery()
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    median = await session.scalar(select(func.avg(ranked.c.w)).where(middle))
    moves = union_all(
        select(islands.c.a.label("t"), literal(1).label("d")), select(islands.c.b.label("t"), literal(-1).label("d"))
    ).subquery()
    # Sorted leaves first at the same instant: one viewer leaving as another arrives is one at a time.
    running = select(func.sum(moves.c.d).over(order_by=(moves.c.t, moves.c.d), rows=(None, 0)).label("c")).subquery()
    peak = await session.scalar(select(func.coalesce(func.max(running.c.c), 0)))
    return Audience(
        unique_viewers=int(viewers),
        peak_viewers=int(peak or 0),
        average_viewers=round(float(total) / period.seconds, 1) if period.seconds else 0.0,
        watch_seconds=round(float(total)),
        average_watch_seconds=round(float(average or 0)),
        median_watch_seconds=round(float(median or 0)),
    )


async def viewers_by_minute(
    session: AsyncSession, *, episode_id: uuid.UUID, period: Period, staff: set[uuid.UUID]
) -> list[int]:
    """How many viewers watched the live during each minute of the period (each viewer once a minute)."""
    start = seconds(period.start)
    spans = _spans(session, episode_id, period, staff, replay=False).subquery()
    # The minutes a span [a, b) is in, as [first, past): minute m when a < start + 60 (m + 1) and
    # b > start + 60 m. Merged per viewer where they share one, so each viewer counts once a minute.
    first = minute(spans.c.a, start)
    past = cast(func.ceil((spans.c.b - start) / 60.0), Integer)
    in_minutes = select(spans.c.k, spans.c.v, first.label("a"), past.label("b")).where(spans.c.b > spans.c.a)
    stretches = _islands(in_minutes).subquery()
    moves = union_all(
        select(stretches.c.a.label("m"), literal(1).label("d")),
        select(stretches.c.b.label("m"), literal(-1).label("d")),
    ).subquery()
    changes = await session.execute(select(moves.c.m, func.sum(moves.c.d)).group_by(moves.c.m).order_by(moves.c.m))
    counts, watching, changed = [], 0, dict((int(m), int(d)) for m, d in changes)
    for at in range(period.minutes):
        watching += changed.get(at, 0)
        counts.append(watching)
    return counts


def _kept() -> ColumnElement[bool]:
    """Messages the room kept: not deleted by a moderator, not sent by a shadow-banned viewer."""
    return and_(ChatMessage.shadowed.is_(False), ChatMessage.deleted_at.is_(None))


async def chat_figures(session: AsyncSession, *, episode_id: uuid.UUID) -> ChatFigures:
    """Messages and questions the room kept, questions answered, reactions sent."""
    messages, questions, answered = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((ChatMessage.question.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((ChatMessage.answered_at.is_not(None), 1), else_=0)), 0),
            ).where(ChatMessage.episode_id == episode_id, _kept())
        )
    ).one()
    reactions = await session.scalar(
        select(func.coalesce(func.sum(ReactionTotal.count), 0)).where(ReactionTotal.episode_id == episode_id)
    )
    return ChatFigures(int(messages), int(questions), int(answered), int(reactions or 0))


async def messages_by_minute(session: AsyncSession, *, episode_id: uuid.UUID, period: Period) -> list[int]:
    """Messages the room kept in each minute of the period."""
    at = minute(epoch(ChatMessage.created_at, dialect_of(session)), seconds(period.start)).label("m")
    rows = await session.execute(
        select(at, func.count())
        .where(
            ChatMessage.episode_id == episode_id,
            ChatMessage.created_at >= period.start,
            ChatMessage.created_at < period.end,
            _kept(),
        )
        .group_by(at)
    )
    return spread({int(m): int(n) for m, n in rows}, period.minutes)


def spread(counts: dict[int, int], minutes: int) -> list[int]:
    """Per-minute counts as a list, minutes without any at 0."""
    return [int(counts.get(at, 0)) for at in range(minutes)]
