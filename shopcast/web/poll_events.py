"""Polls in the live room: `poll:vote` (the votes arriving together written together), and the polls'
clock on every process: live tallies told at most four times a second per poll across processes,
and polls closed when their countdown ends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import Field

from shopcast.core.errors import ShopcastError
from shopcast.core.group_commit import GroupCommit
from shopcast.live.events import episode_room
from shopcast.polls import service as polls
from shopcast.polls import votes
from shopcast.polls.events import POLL_TALLY, PollTallied
from shopcast.polls.schemas import VoteOut
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
    who = call.membership.chatter
    ballot = votes.Ballot(voter_kind=who.kind, voter_id=who.id, option_ids=request.option_ids)
    poll = (request.episode_id, request.poll_id)
    vote = await call.app[POLL_CLOCK].ballots.submit(poll, (who.kind, who.id), ballot)
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
        self.ballots: GroupCommit[tuple[uuid.UUID, uuid.UUID], votes.Ballot, VoteOut] = GroupCommit(
            "poll votes", self._cast
        )

    async def _cast(
        self, poll: tuple[uuid.UUID, uuid.UUID], ballots: Sequence[votes.Ballot]
    ) -> list[VoteOut | ShopcastError]:
        episode_id, poll_id = poll
        res = self._resources
        async with res.database.transaction() as session:
            cast = await votes.cast(
                session, episode_id=episode_id, poll_id=poll_id, ballots=ballots, now=res.clock.now()
            )
        self.voted(episode_id, poll_id)  # committed: the next tally counts them
        return cast

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
        await self.ballots.close()
        await self._ticker.close()


POLL_CLOCK = web.AppKey("poll_clock", PollClock)
