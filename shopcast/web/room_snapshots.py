"""The part of a live room's join snapshot that is the same for everyone, read once and shared.

At 19:00 a weekly show's whole audience joins within a minute. What a joining viewer sees first (the
episode, the pinned product, what sold, the open poll and giveaway, the recent chat, the reaction
totals) is the same for all of them: it is read from the database once per room and shared, encoded
as JSON once (web/packets.py sends it as it is), by every viewer joining for the next
`join_snapshot_seconds`; then the next join reads it again. What is a viewer's own (their
restrictions, hidden messages, vote and entry) is read per batch of joins (web/joins.py).

A snapshot covers the room's events up to its `seq`, read before anything else. A viewer joining
with a snapshot read before events the room then sent gets those events right after the ack
(rooms.LiveRooms keeps them a while): the snapshot is used only while the room can still send them
all (`LiveRooms.replays_after`), and read again otherwise.
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from shopcast.catalog import lineup
from shopcast.chat import audience
from shopcast.chat import snapshot as chat_snapshot
from shopcast.contests import entries as giveaways
from shopcast.core.bus import Bus
from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.core.recent import Recent
from shopcast.live import public as live
from shopcast.live import service as episodes
from shopcast.live.events import episode_room
from shopcast.polls import service as polls
from shopcast.web.room_tallies import RoomTallies
from shopcast.web.rooms import LiveRooms

MOST_ROOMS_KEPT = 256
"""Rooms whose last snapshot stays in memory (tens of kilobytes each; an old one is only replaced)."""

Json = dict[str, Any]
NumberedJson = list[tuple[int, Json]]


@dataclass(frozen=True)
class RoomSnapshot:
    """What every viewer joining the room now sees, as JSON, with the seq it covers."""

    seq: int
    brand_id: uuid.UUID
    shared: dict[str, orjson.Fragment | int]
    """episode, pin, bought, poll (without a vote), giveaway (without an entry), pinned,
    slow_mode_seconds, reactions: encoded."""
    chat: NumberedJson
    """The recent messages everyone sees, by number."""
    questions: NumberedJson
    """The open questions everyone sees, by number."""
    poll: Json | None
    giveaway: Json | None

    @functools.cached_property
    def everyones_chat(self) -> orjson.Fragment:
        return orjson.Fragment(orjson.dumps([message for _, message in self.chat]))

    @functools.cached_property
    def everyones_questions(self) -> orjson.Fragment:
        return orjson.Fragment(orjson.dumps([message for _, message in self.questions]))


class RoomSnapshots:
    def __init__(
        self,
        database: Database,
        bus: Bus,
        rooms: LiveRooms,
        tallies: RoomTallies,
        clock: Clock,
        *,
        lifetime_seconds: float,
    ) -> None:
        self._database = database
        self._bus = bus
        self._rooms = rooms
        self._tallies = tallies
        self._clock = clock
        # One read per room at a time, shared by the joins arriving meanwhile and for the lifetime.
        self._snapshots: Recent[uuid.UUID, RoomSnapshot] = Recent(lifetime_seconds, size=MOST_ROOMS_KEPT)
        self.reads = 0
        """How many times a snapshot was read from the database (for tests and benchmarks)."""

    async def current(self, episode_id: uuid.UUID) -> RoomSnapshot:
        """The room's snapshot for a viewer who is already in the room (LiveRooms.entering); NotFound
        for an unknown episode."""
        for _ in range(3):
            snapshot = await self._snapshots.get(episode_id, lambda: self._read(episode_id))
            if self._rooms.replays_after(episode_room(episode_id), snapshot.seq):
                return snapshot
            self._snapshots.forget(episode_id)  # what came since is no longer all kept: read it again
        # The room keeps losing what it would replay (its relay catching up): the viewer notices the
        # gap in seq and asks again, as after any gap.
        return snapshot

    async def _read(self, episode_id: uuid.UUID) -> RoomSnapshot:
        self.reads += 1
        # Read first: every event up to it is in what follows, every later one is sent after the ack.
        seq = await self._bus.last_seq(episode_room(episode_id))
        now = self._clock.now()
        async with self._database.transaction() as session:
            episode = await episodes.load_episode(session, episode_id)  # 404 if unknown
            shown = await live.public_episode(session, episode_id=episode_id)
            stored = await audience.reaction_totals(session, episode_id=episode_id)
            chat = await chat_snapshot.room_chat(session, episode_id=episode_id)
            pin = await lineup.current_pin(session, episode_id=episode_id, now=now)
            sold = await lineup.bought(session, episode_id)
            poll = await polls.room_poll(session, episode_id=episode_id, now=now)
            giveaway = await giveaways.snapshot(session, episode_id=episode_id)
        reactions = dict(self._tallies.unsaved_reactions(episode_id) + Counter(stored))
        poll_json = poll.model_dump(mode="json") if poll is not None else None
        giveaway_json = giveaway.model_dump(mode="json") if giveaway is not None else None
        shared = {
            "episode": shown.model_dump(mode="json"),
            "pin": pin.model_dump(mode="json") if pin is not None else None,
            "poll": poll_json,
            "giveaway": giveaway_json,
            "pinned": chat.pinned.model_dump(mode="json") if chat.pinned is not None else None,
            "reactions": reactions,
        }
        return RoomSnapshot(
            seq=seq,
            brand_id=episode.brand_id,
            shared={
                **{key: orjson.Fragment(orjson.dumps(value)) for key, value in shared.items()},
                "bought": sum(sold.values()),
                "slow_mode_seconds": chat.slow_mode_seconds,
            },
            chat=[(number, message.model_dump(mode="json")) for number, message in chat.recent],
            questions=[(number, message.model_dump(mode="json")) for number, message in chat.questions],
            poll=poll_json,
            giveaway=giveaway_json,
        )
