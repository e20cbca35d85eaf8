"""The live room's passing state: viewer counts across processes (1 Hz) and reactions (4 Hz).

The viewer count has one definition everywhere (the player, the studio, `/audience`): distinct
viewers watching now, each account or guest once however many tabs it has open, each anonymous
connection once, the brand's staff not counted; summed over the processes.

Both go to clients as state events with the room's latest seq (see rooms.LiveRooms.emit_state)
and never through the room's log: a count is worth nothing once the next one is out.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter

from shopcast.chat import audience
from shopcast.chat.events import CHAT_REACTIONS, PRESENCE_COUNT
from shopcast.chat.identity import Chatter
from shopcast.core.bus import Bus
from shopcast.core.db import Database
from shopcast.core.presence import Presence
from shopcast.live.events import episode_room
from shopcast.web.rooms import LiveRooms
from shopcast.web.ticker import Ticker

log = logging.getLogger(__name__)
PRESENCE_INTERVAL = 1.0
REACTIONS_INTERVAL = 0.25
SAVE_EVERY = 20  # reaction ticks between saves of the totals (5 s)


class RoomTallies:
    def __init__(self, rooms: LiveRooms, presence: Presence, bus: Bus, database: Database) -> None:
        self._rooms = rooms
        # Per room, this process's viewers: connections per identity (a join costs O(1), not a scan).
        self._here: dict[str, Counter[tuple[str, uuid.UUID]]] = {}
        self._presence = presence
        self._bus = bus
        self._database = database
        self._viewers: dict[str, int] = {}
        self._reactions: dict[uuid.UUID, Counter[str]] = {}  # to tell the room
        self._unsaved: dict[uuid.UUID, Counter[str]] = {}  # to add to the stored totals
        self._reaction_ticks = 0
        self._tickers = [
            Ticker("counting the rooms' viewers", PRESENCE_INTERVAL, self._count_viewers),
            Ticker("telling the rooms' reactions", REACTIONS_INTERVAL, self._tell_reactions),
        ]

    def start(self) -> None:
        for ticker in self._tickers:
            ticker.start()

    def arrived(self, room: str, chatter: Chatter) -> None:
        """A connection of `chatter` joined the room on this process."""
        if not chatter.is_staff:
            self._here.setdefault(room, Counter())[(chatter.kind, chatter.id)] += 1

    def left(self, room: str, chatter: Chatter) -> None:
        """A connection of `chatter` left the room on this process (left, removed or disconnected)."""
        here = self._here.get(room)
        if chatter.is_staff or here is None:
            return
        who = (chatter.kind, chatter.id)
        here[who] -= 1
        if here[who] <= 0:
            del here[who]
        if not here:
            del self._here[room]

    def _audience(self, room: str) -> int:
        return len(self._here.get(room, ()))

    def viewers(self, room: str) -> int:
        """The room's viewer count as last heard across processes (at least this process's own)."""
        return max(self._viewers.get(room, 0), self._audience(room))

    async def viewers_now(self, room: str) -> int:
        """The room's viewer count across processes, also where this process has no viewer in it."""
        if room in self._viewers or self._rooms.members(room):
            return self.viewers(room)
        return (await self._presence.totals([room])).get(room, 0)

    def react(self, episode_id: uuid.UUID, emoji: str) -> None:
        self._reactions.setdefault(episode_id, Counter())[emoji] += 1
        self._unsaved.setdefault(episode_id, Counter())[emoji] += 1

    def unsaved_reactions(self, episode_id: uuid.UUID) -> Counter[str]:
        return Counter(self._unsaved.get(episode_id, {}))

    async def _count_viewers(self) -> None:
        counts = {room: self._audience(room) for room in self._rooms.rooms()}
        totals = await self._presence.report(counts)
        for room, total in totals.items():
            if self._viewers.get(room) != total:
                self._viewers[room] = total
                await self._rooms.emit_state(room, PRESENCE_COUNT, {"viewers": total})
        for room in set(self._viewers) - set(totals):
            del self._viewers[room]

    async def _tell_reactions(self) -> None:
        self._reaction_ticks += 1
        pending, self._reactions = self._reactions, {}
        for episode_id, counts in pending.items():
            try:
                await self._bus.signal(episode_room(episode_id), CHAT_REACTIONS, {"counts": dict(counts)})
            except Exception:
                log.exception("could not send reactions to the room")
        if self._reaction_ticks % SAVE_EVERY == 0:
            await self.save()

    async def save(self) -> None:
        """Add the reactions counted here to the stored totals (kept for later on failure)."""
        unsaved, self._unsaved = self._unsaved, {}
        for episode_id, counts in unsaved.items():
            try:
                async with self._database.transaction() as session:
                    await audience.add_reactions(session, episode_id=episode_id, counts=dict(counts))
            except Exception:
                log.exception("could not save reaction totals; keeping them for the next try")
                self._unsaved.setdefault(episode_id, Counter()).update(counts)

    async def close(self) -> None:
        for ticker in self._tickers:
            await ticker.close()
        await self.save()
