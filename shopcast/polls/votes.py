"""Votes: one per viewer identity, counted per option for the tallies and the result.

A vote and a close never cross: a vote holds the poll's row shared (PostgreSQL) and checks the poll
is still open after writing (SQLite's write lock is then held), while a close changes the row and
counts in the same transaction (polls.service), so the stored result is exactly the votes stored."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from shopcast.polls.models import Poll, PollChoice, PollOption, PollVote
from shopcast.polls.schemas import Tally, VoteOut


async def options_of(session: AsyncSession, poll_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PollOption]]:
    """Each poll's options in their order, in one query."""
    found: dict[uuid.UUID, list[PollOption]] = {p: [] for p in poll_ids}
    if poll_ids:
        rows = await session.scalars(
            select(PollOption).where(PollOption.poll_id.in_(poll_ids)).order_by(PollOption.poll_id, PollOption.position)
        )
        for option in rows:
            found[option.poll_id].append(option)
    return found


async def count_votes(session: AsyncSession, poll_id: uuid.UUID, options: list[PollOption]) -> Tally:
    """The poll's tally from the stored votes."""
    rows = await session.execute(
        select(PollChoice.option_id, func.count()).where(PollChoice.poll_id == poll_id).group_by(PollChoice.option_id)
    )
    counted = {option_id: int(n) for option_id, n in rows}
    voters = await session.scalar(select(func.count()).select_from(PollVote).where(PollVote.poll_id == poll_id))
    return Tally(votes={str(o.id): counted.get(o.id, 0) for o in options}, voters=int(voters or 0))


async def right_voters(session: AsyncSession, poll_id: uuid.UUID, correct: list[uuid.UUID]) -> int:
    """Voters who picked exactly the right options."""
    per_voter = (
        select(PollChoice.voter_kind, PollChoice.voter_id)
        .where(PollChoice.poll_id == poll_id)
        .group_by(PollChoice.voter_kind, PollChoice.voter_id)
        .having(
            func.count() == len(correct),
            func.sum(case((PollChoice.option_id.in_(correct), 1), else_=0)) == len(correct),
        )
    )
    return int(await session.scalar(select(func.count()).select_from(per_voter.subquery())) or 0)


async def my_vote(
    session: AsyncSession, *, poll_id: uuid.UUID, voter_kind: str, voter_id: uuid.UUID
) -> list[uuid.UUID] | None:
    """The options this identity voted for, if it voted."""
    mine = await session.scalar(
        select(PollVote.option_ids).where(
            PollVote.poll_id == poll_id, PollVote.voter_kind == voter_kind, PollVote.voter_id == voter_id
        )
    )
    return [uuid.UUID(o) for o in mine] if mine is not None else None


async def vote(
    session: AsyncSession,
    *,
    episode_id: uuid.UUID,
    poll_id: uuid.UUID,
    voter_kind: str,
    voter_id: uuid.UUID,
    option_ids: list[uuid.UUID],
    now: datetime,
) -> VoteOut:
    """Record a viewer identity's vote, or change it where the poll allows."""
    if voter_kind not in ("user", "guest"):
        raise Unauthorized("join as a guest or sign in to vote")
    # Held shared until commit (PostgreSQL): a close waits for the votes under way, and the votes
    # after it see it closed.
    poll = await session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update(read=True))
    if poll is None or poll.episode_id != episode_id or poll.status == "draft":
        raise NotFound(f"no poll {poll_id} in this episode")
    if poll.status != "open" or (poll.closes_at is not None and poll.closes_at <= now):
        raise Conflict("the poll is closed")
    options = {o.id for o in (await options_of(session, [poll.id]))[poll.id]}
    if len(set(option_ids)) != len(option_ids):
        raise InvalidInput("option_ids: each option once")
    unknown = [str(o) for o in option_ids if o not in options]
    if unknown:
        raise InvalidInput(f"option_ids: not options of this poll: {', '.join(unknown)}")
    if not poll.multiple and len(option_ids) != 1:
        raise InvalidInput("option_ids: this poll takes one option")
    voter = (PollVote.poll_id == poll_id, PollVote.voter_kind == voter_kind, PollVote.voter_id == voter_id)
    chosen = [str(o) for o in option_ids]
    first = await session.scalar(
        insert_ignoring_duplicates(session, PollVote.__table__)
        .values(poll_id=poll_id, voter_kind=voter_kind, voter_id=voter_id, option_ids=chosen, voted_at=now)
        .returning(PollVote.poll_id)
    )
    if first is None:
        if not poll.allow_change:
            raise Conflict("you already voted")
        await session.execute(
            update(PollVote)
            .where(*voter)
            .values(option_ids=chosen, changed_at=now)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(PollChoice).where(
                PollChoice.poll_id == poll_id, PollChoice.voter_kind == voter_kind, PollChoice.voter_id == voter_id
            )
        )
    await session.execute(
        PollChoice.__table__.insert(),
        [{"poll_id": poll_id, "voter_kind": voter_kind, "voter_id": voter_id, "option_id": o} for o in option_ids],
    )
    # Read again after writing (SQLite's write lock is held now): a close that came first wins.
    still = await session.scalar(select(Poll.status).where(Poll.id == poll_id))
    if still != "open":
        raise Conflict("the poll is closed")
    return VoteOut(poll_id=poll_id, option_ids=option_ids)


async def open_tally(session: AsyncSession, *, poll_id: uuid.UUID) -> Tally | None:
    """The tally of a poll still open (None once closed: `poll:closed` has the final one)."""
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.status != "open":
        return None
    return await count_votes(session, poll_id, (await options_of(session, [poll_id]))[poll_id])
