"""Joining a live room, answered for many viewers at once.

A join needs the room's snapshot (the same for everyone: web/room_snapshots.py) and what is the
viewer's own: whether they are banned, when their time-out ends, the messages they sent while
shadow-banned, their vote in the open poll and their entry in the giveaway. The joins arriving
together are answered together (core/group_commit.py, one batch per room): one snapshot and, for the
viewers with a token among them, one query each for their restrictions, hidden messages, votes and
entries, however many they are. Viewers watching without a token never have any of these (they
cannot write, vote or enter), so a batch of them reads nothing of their own at all. Nothing is
kept between batches: a ban, a time-out or a vote is seen by the next join after it. Past
SHOPCAST_JOIN_QUEUE_MOST joins under way, a join is refused as busy and told when to come back
(core/waiting_line.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shopcast.chat import service as chat
from shopcast.chat import snapshot as chat_snapshot
from shopcast.chat.identity import Chatter
from shopcast.chat.models import ChatRestriction
from shopcast.chat.schemas import YouOut
from shopcast.chat.snapshot import ChatShown
from shopcast.contests import entries as giveaways
from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.core.errors import ShopcastError
from shopcast.core.group_commit import GroupCommit
from shopcast.core.recent import Recent
from shopcast.core.waiting_line import WaitingLine
from shopcast.live import service as episodes
from shopcast.polls import votes
from shopcast.web.room_snapshots import RoomSnapshot, RoomSnapshots

BRAND_KEPT_SECONDS = 3600.0
"""How long an episode's brand is kept in memory (an episode never changes brand)."""


@dataclass(frozen=True)
class Admission:
    """A viewer let into the room: the room's snapshot and what is theirs alone."""

    room: RoomSnapshot
    restrictions: dict[str, ChatRestriction] = field(default_factory=dict)
    hidden: ChatShown | None = None
    vote: list[uuid.UUID] | None = None
    entry_id: uuid.UUID | None = None


class Joins:
    def __init__(self, database: Database, snapshots: RoomSnapshots, clock: Clock, *, most: int) -> None:
        """`most`: joins answered at once at most (SHOPCAST_JOIN_QUEUE_MOST); past them `line` refuses."""
        self.line = WaitingLine(most, refusal="errors.room.busy")
        self._database = database
        self._snapshots = snapshots
        self._clock = clock
        self._brands: Recent[uuid.UUID, uuid.UUID] = Recent(BRAND_KEPT_SECONDS, size=10_000)
        self._batches: GroupCommit[uuid.UUID, Chatter, Admission] = GroupCommit("joins", self._admit)

    async def brand_of(self, episode_id: uuid.UUID) -> uuid.UUID:
        """The episode's brand (NotFound for an unknown episode), read once for all the joins."""
        return await self._brands.get(episode_id, lambda: self._read_brand(episode_id))

    async def _read_brand(self, episode_id: uuid.UUID) -> uuid.UUID:
        async with self._database.transaction() as session:
            return (await episodes.load_episode(session, episode_id)).brand_id

    async def admit(self, episode_id: uuid.UUID, sid: str, chatter: Chatter) -> Admission:
        """Let a connection already in the room's delivery (LiveRooms.entering) in: 403 for a banned
        viewer, 404 for an unknown episode."""
        return await self._batches.submit(episode_id, sid, chatter)

    async def close(self) -> None:
        """Answer the joins under way (the app stopping)."""
        await self._batches.close()

    async def _admit(self, episode_id: uuid.UUID, chatters: Sequence[Chatter]) -> list[Admission | Exception]:
        room = await self._snapshots.current(episode_id)
        people = [c for c in chatters if not c.is_anonymous]
        named = [(c.kind, c.id) for c in people]
        restrictions: dict[tuple[str, uuid.UUID], dict[str, ChatRestriction]] = {}
        hidden: dict[tuple[str, uuid.UUID], ChatShown] = {}
        chosen: dict[tuple[str, uuid.UUID], list[uuid.UUID]] = {}
        entered: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
        if named:
            async with self._database.transaction() as session:
                restrictions = await chat.restrictions_of_many(
                    session, brand_id=room.brand_id, chatters=people, now=self._clock.now()
                )
                hidden = await chat_snapshot.own_hidden(session, episode_id=episode_id, authors=named)
                if room.poll is not None:
                    chosen = await votes.votes_of(session, poll_id=uuid.UUID(room.poll["id"]), voters=named)
                if room.giveaway is not None:
                    giveaway_id = uuid.UUID(room.giveaway["id"])
                    entered = await giveaways.entries_of(session, giveaway_id=giveaway_id, viewers=named)
        admitted: list[Admission | Exception] = []
        for chatter in chatters:
            who = (chatter.kind, chatter.id)
            theirs = restrictions.get(who, {})
            try:
                chat.refuse_banned(theirs)
            except ShopcastError as error:
                admitted.append(error)
                continue
            admitted.append(Admission(room, theirs, hidden.get(who), chosen.get(who), entered.get(who)))
        return admitted


def join_ack(admission: Admission, chatter: Chatter, viewers: int) -> dict[str, Any]:
    """The ack of a join answered with a snapshot: the room's (encoded once for all), with the
    viewer's own parts and the room's viewer count (theirs included)."""
    room = admission.room
    snapshot = {**room.shared, "viewers": viewers}
    if admission.hidden is None:
        snapshot["chat"], snapshot["questions"] = room.everyones_chat, room.everyones_questions
    else:
        own = admission.hidden
        snapshot["chat"] = chat_snapshot.newest(room.chat, _json(own.recent))
        snapshot["questions"] = chat_snapshot.oldest(room.questions, _json(own.questions))
    if admission.vote is not None and room.poll is not None:
        snapshot["poll"] = {**room.poll, "my_vote": [str(option) for option in admission.vote]}
    if admission.entry_id is not None and room.giveaway is not None:
        snapshot["giveaway"] = {**room.giveaway, "my_entry_id": str(admission.entry_id)}
    timeout = admission.restrictions.get("timeout")
    you = YouOut(ref=chatter.ref, role=chatter.role, timed_out_until=timeout.until if timeout is not None else None)
    snapshot["you"] = you.model_dump(mode="json")
    return {"ok": True, "seq": room.seq, "snapshot": snapshot}


def _json(numbered: chat_snapshot.Numbered) -> list[tuple[int, dict[str, Any]]]:
    return [(number, message.model_dump(mode="json")) for number, message in numbered]
