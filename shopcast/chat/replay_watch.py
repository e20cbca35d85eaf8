"""The replay's watch time: a viewer's player beats while the recording plays, and each beat counted
stretches the viewer's replay session (a WatchSession with `replay`) to now.

Only the beats say that a replay is being watched, so they are what is bounded: nothing can tell who
looks at a screen, but nobody is counted for more than they could have watched.

- One session at a time per viewer (an account or a guest, as their cart knows them): a beat
  stretches the viewer's latest session, whichever tab or process it comes from, so two tabs count
  the time once.
- A beat sooner than `EARLY_SHARE` of the interval after the last one counted is refused (429):
  beating faster counts nothing more.
- A beat more than `MISSED_BEATS` intervals after the last one (the video was paused, the page
  closed) starts a new session now, and so does one that says it `resumed` (the recording did not
  play since the last beat): the time in between is not counted. Watch time is so counted to within
  one beat of the time played.
- A viewer's replay sessions together never pass the recording's length.

The beats of an episode that arrive together are counted together (web/routes/replay.py batches
them): one read of those viewers' sessions, one UPDATE for those stretched, one INSERT for those
started."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.chat.models import WatchSession
from shopcast.chat.schemas import ReplayBeatOut
from shopcast.core.errors import ShopcastError, TooManyRequests
from shopcast.core.ids import new_id
from shopcast.core.ratelimit import whole_seconds

EARLY_SHARE = 0.8
"""A beat may come this share of the interval after the last one (a player's timer runs a little early)."""
MISSED_BEATS = 2
"""After this many intervals without a beat, the viewer stopped watching at their last one."""

_sessions = WatchSession.__table__
_STRETCH = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("watch_id"))
    .values(left_at=bindparam("until", type_=_sessions.c.left_at.type))
)


@dataclass(frozen=True)
class Beat:
    """One beat of a viewer's player."""

    viewer_kind: str
    viewer_id: uuid.UUID
    resumed: bool


@dataclass
class _Watched:
    """A viewer's replay sessions so far: the latest one, and their time together."""

    latest_id: uuid.UUID
    latest_left: datetime
    seconds: float


async def _watched(
    session: AsyncSession, episode_id: uuid.UUID, viewers: set[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], _Watched]:
    rows = await session.execute(
        select(_sessions.c.id, _sessions.c.viewer_kind, _sessions.c.viewer_id)
        .add_columns(_sessions.c.joined_at, _sessions.c.left_at)
        .where(
            _sessions.c.episode_id == episode_id,
            _sessions.c.replay.is_(True),
            _sessions.c.viewer_id.in_({viewer_id for _, viewer_id in viewers}),
        )
        .order_by(_sessions.c.left_at)
    )
    watched: dict[tuple[str, uuid.UUID], _Watched] = {}
    for watch_id, kind, viewer_id, joined, left in rows:
        viewer = (kind, viewer_id)
        if viewer not in viewers or left is None:
            continue
        so_far = watched.get(viewer)
        seconds = (so_far.seconds if so_far else 0.0) + max(0.0, (left - joined).total_seconds())
        watched[viewer] = _Watched(watch_id, left, seconds)  # in order: the last one read is the latest
    return watched


async def count_beats(
    session: AsyncSession,
    *,
    episode_id: uuid.UUID,
    beats: Sequence[Beat],
    now: datetime,
    beat_seconds: int,
    recording_seconds: float,
) -> list[ReplayBeatOut | ShopcastError]:
    """Count the beats of an episode's replay (one per viewer), each answered or refused in order."""
    watched = await _watched(session, episode_id, {(b.viewer_kind, b.viewer_id) for b in beats})
    stretched: list[dict[str, object]] = []
    started: list[dict[str, object]] = []
    answers: list[ReplayBeatOut | ShopcastError] = []
    for beat in beats:
        mine = watched.get((beat.viewer_kind, beat.viewer_id))
        since = (now - mine.latest_left).total_seconds() if mine is not None else None
        if since is not None and since < EARLY_SHARE * beat_seconds:
            wait = whole_seconds(EARLY_SHARE * beat_seconds - since)
            refused = TooManyRequests("errors.replay.too_soon", every=beat_seconds, seconds=wait, retry_after=wait)
            answers.append(refused)
            continue
        seconds = mine.seconds if mine is not None else 0.0
        left = recording_seconds - seconds
        if left <= 0:
            pass  # counted for the whole recording already
        elif mine is not None and since is not None and since <= MISSED_BEATS * beat_seconds and not beat.resumed:
            until = min(now, mine.latest_left + timedelta(seconds=left))
            stretched.append({"watch_id": mine.latest_id, "until": until})
            seconds += (until - mine.latest_left).total_seconds()
        else:
            started.append(
                {"id": new_id(), "episode_id": episode_id, "viewer_kind": beat.viewer_kind}
                | {"viewer_id": beat.viewer_id, "replay": True, "joined_at": now, "left_at": now}
            )
        answers.append(ReplayBeatOut(counting=left > 0, watched_seconds=round(seconds), beat_seconds=beat_seconds))
    if stretched:
        await session.execute(_STRETCH, stretched)
    if started:
        await session.execute(insert(_sessions), started)
    return answers
