"""Polls in the live room: `poll:vote`, and the polls' clock on every process: live tallies told at
most four times a second per poll across processes, and polls closed when their countdown ends."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import Field

from shopcast.live.events import episode_room
from shopcast.polls import service as polls
from shopcast.polls import votes
from shopcast.polls.events import POLL_TALLY, PollTallied
from shopcast.web.context import Resources
from shopcast.web.sockets import RoomCall, RoomRequest, room_event
from shopcast.web.ticker import Ticker

TALLY_SECONDS = 0.25
"""The shortest time between two `poll:tally` of one poll, over every process (four a second)."""
TICK_SECONDS = 0.05
"""How often a process looks for a turn to tell its untold tallies: finer than `TALLY_SECONDS`, so
turns are not missed by a hair and a tally waits at most a tick after its turn."""
CLOSE_EVERY_TICKS = 20
"""Polls past their countdown are closed every this many ticks (once a second)."""


class VoteRequest(RoomRequest):
    poll_id: uuid.UUID
    option_ids: list[uuid.UUID] = Field(min_length=1, max_length=6)


@room_event("poll:vote", VoteRequest)
async def vote(call: RoomCall, request: VoteRequest) -> dict[str, Any]:
    res = call.resources
    who = call.membership.chatter
    async with res.database.transaction() as session:
        vote = await votes.vote(
            session,
            episode_id=request.episode_id,
            poll_id=request.poll_id,
            voter_kind=who.kind,
            voter_id=who.id,
            option_ids=request.option_ids,
            now=call.now(),
        )
    call.app[POLL_CLOCK].voted(request.episode_id, request.poll_id)  # committed: the next tally counts it
    return {"vote": vote.model_dump(mode="json")}


class PollClock:
    """Each process tells the tallies of the polls voted on through it, until a tally counted after
    its last vote is out, whichever process's turn it is; a tally is counted from the stored votes,
    so the last one told is exact. Safe on several processes at once, as closing polls is."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._untold: dict[uuid.UUID, uuid.UUID] = {}  # poll -> episode, voted on here since last told
        self._ticks = 0
        self._ticker = Ticker("the polls' clock", TICK_SECONDS, self.tick)

    def voted(self, episode_id: uuid.UUID, poll_id: uuid.UUID) -> None:
        self._untold[poll_id] = episode_id

    def start(self) -> None:
        self._ticker.start()

    async def tick(self) -> None:
        self._ticks += 1
        if self._ticks % CLOSE_EVERY_TICKS == 0:
            await self.close_due()
        await self.tell_tallies()

    async def close_due(self) -> None:
        res = self._resources
        async with res.database.transaction() as session:
            await polls.close_due(session, now=res.clock.now(), bus=res.bus)

    async def tell_tallies(self) -> None:
        res = self._resources
        for poll_id, episode_id in list(self._untold.items()):
            if not await res.throttle.take(f"poll-tally:{poll_id}", TALLY_SECONDS):
                continue  # told by another process just now: ours waits for the next turn
            # Taken off before counting: a vote committed during the count is told next time.
            del self._untold[poll_id]
            try:
                async with res.database.transaction() as session:
                    tally = await votes.open_tally(session, poll_id=poll_id)
                if tally is not None:
                    told = PollTallied(poll_id=poll_id, votes=tally.votes, voters=tally.voters)
                    await res.bus.signal(episode_room(episode_id), POLL_TALLY, told.model_dump(mode="json"))
            except Exception:
                self._untold.setdefault(poll_id, episode_id)
                raise

    async def close(self) -> None:
        await self._ticker.close()


POLL_CLOCK = web.AppKey("poll_clock", PollClock)
