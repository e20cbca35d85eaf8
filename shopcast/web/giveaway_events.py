"""Giveaways in the live room: `giveaway:enter` from the player's button (the entries arriving
together written together), and the entry count told to each process's viewers at most twice a
second (read from the database, so exact across processes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from shopcast.chat.identity import Chatter
from shopcast.contests import entries as giveaways
from shopcast.contests.events import GIVEAWAY_ENTRIES, GiveawayEntries
from shopcast.contests.schemas import EntryOut
from shopcast.core.errors import ShopcastError
from shopcast.core.group_commit import GroupCommit
from shopcast.live.events import episode_room, room_episode
from shopcast.web.context import Resources
from shopcast.web.rooms import LiveRooms
from shopcast.web.sockets import RoomCall, RoomRequest, room_event
from shopcast.web.ticker import Ticker

ENTRIES_INTERVAL = 0.5  # at most two counts a second per giveaway


class EnterRequest(RoomRequest):
    giveaway_id: uuid.UUID


@room_event("giveaway:enter", EnterRequest)
async def enter(call: RoomCall, request: EnterRequest) -> dict[str, Any]:
    who = call.membership.chatter
    giveaway = (request.episode_id, request.giveaway_id)
    entry = await call.app[ENTRIES].submit(giveaway, (who.kind, who.id), who)
    return {"entry": entry.model_dump(mode="json")}


Giveaway = tuple[uuid.UUID, uuid.UUID]  # (episode, giveaway)


def entry_writer(resources: Resources) -> GroupCommit[Giveaway, Chatter, EntryOut]:
    """Entries arriving together written together, one transaction per giveaway and batch."""

    async def write(giveaway: Giveaway, chatters: Sequence[Chatter]) -> list[EntryOut | ShopcastError]:
        episode_id, giveaway_id = giveaway
        async with resources.database.transaction() as session:
            return await giveaways.enter_many(
                session, episode_id=episode_id, giveaway_id=giveaway_id, chatters=chatters, now=resources.clock.now()
            )

    return GroupCommit("giveaway entries", write)


ENTRIES = web.AppKey("giveaway_entries", GroupCommit[Giveaway, Chatter, EntryOut])


class EntryCounter:
    """Every ENTRIES_INTERVAL, on every process: the entries of each open giveaway in a room this
    process has viewers in, told to them when it changed."""

    def __init__(self, resources: Resources, rooms: LiveRooms) -> None:
        self._resources = resources
        self._rooms = rooms
        self._told: dict[str, tuple[uuid.UUID, int]] = {}
        self._ticker = Ticker("the giveaways' entry counts", ENTRIES_INTERVAL, self.tick)

    def start(self) -> None:
        self._ticker.start()

    async def tick(self) -> None:
        rooms = [r for r in self._rooms.rooms() if self._rooms.members(r)]
        for room in set(self._told) - set(rooms):
            del self._told[room]
        if not rooms:
            return
        async with self._resources.database.transaction() as session:
            counts = await giveaways.open_entry_counts(session, episode_ids=[room_episode(r) for r in rooms])
        for episode_id, (giveaway_id, entries) in counts.items():
            room = episode_room(episode_id)
            if self._told.get(room) != (giveaway_id, entries):
                self._told[room] = (giveaway_id, entries)
                shown = GiveawayEntries(giveaway_id=giveaway_id, entries=entries)
                await self._rooms.emit_state(room, GIVEAWAY_ENTRIES, shown.model_dump(mode="json"))

    async def close(self) -> None:
        await self._ticker.close()
