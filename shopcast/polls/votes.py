"""Votes: one per viewer identity, counted per option for the tallies and the result; written in
batches (`cast`), since a room's viewers vote together.

A vote and a close never cross: a vote holds the poll's row shared (PostgreSQL) and checks the poll
is still open after writing (SQLite's write lock is then held), while a close changes the row and
counts in the same transaction (polls.service), so the stored result is exactly the votes stored."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import Conflict, InvalidInput, NotFound, ShopcastError, Unauthorized
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


async def votes_of(
    session: AsyncSession, *, poll_id: uuid.UUID, voters: Sequence[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], list[uuid.UUID]]:
    """The options each of these identities voted for, for those who voted (one query for all)."""
    if not voters:
        return {}
    rows = await session.execute(
        select(PollVote.voter_kind, PollVote.voter_id, PollVote.option_ids).where(
            PollVote.poll_id == poll_id, tuple_(PollVote.voter_kind, PollVote.voter_id).in_(set(voters))
        )
    )
    return {(kind, voter_id): [uuid.UUID(o) for o in chosen] for kind, voter_id, chosen in rows}


@dataclass(frozen=True)
class Ballot:
    """What one viewer identity picked."""

    voter_kind: str
    voter_id: uuid.UUID
    option_ids: list[uuid.UUID]


async def cast(
    session: AsyncSession, *, episode_id: uuid.UUID, poll_id: uuid.UUID, ballots: Sequence[Ballot], now: datetime
) -> list[VoteOut | ShopcastError]:
    """Record the ballots of different identities in one poll (or change them where the poll
    allows): for each, its vote or the reason it alone is refused. A poll that is not open refuses
    them all (raised). A few statements for the whole batch, however many ballots."""
    # Held shared until commit (PostgreSQL): a close waits for the votes under way, and the votes
    # after it see it closed.
    poll = await session.scalar(select(Poll).where(Poll.id == poll_id).with_for_update(read=True))
    if poll is None or poll.episode_id != episode_id or poll.status == "draft":
        raise NotFound("errors.poll.none_here", poll_id=poll_id)
    if poll.status != "open" or (poll.closes_at is not None and poll.closes_at <= now):
        raise Conflict("errors.poll.closed")
    options = {o.id for o in (await options_of(session, [poll.id]))[poll.id]}
    results: list[VoteOut | ShopcastError] = []
    for ballot in ballots:
        try:
            _check(ballot, options, multiple=poll.multiple)
            results.append(VoteOut(poll_id=poll_id, option_ids=ballot.option_ids))
        except ShopcastError as refused:
            results.append(refused)
    valid = [b for b, r in zip(ballots, results, strict=True) if isinstance(r, VoteOut)]
    if not valid:
        return results
    first = {
        (kind, voter_id)
        for kind, voter_id in await session.execute(
            insert_ignoring_duplicates(session, PollVote.__table__).returning(
                PollVote.__table__.c.voter_kind, PollVote.__table__.c.voter_id
            ),
            [
                {
                    "poll_id": poll_id,
                    "voter_kind": b.voter_kind,
                    "voter_id": b.voter_id,
                    "option_ids": [str(o) for o in b.option_ids],
                    "voted_at": now,
                }
                for b in valid
            ],
        )
    }
    again = [b for b in valid if (b.voter_kind, b.voter_id) not in first]
    if again and not poll.allow_change:
        refused = {(b.voter_kind, b.voter_id) for b in again}
        for i, ballot in enumerate(ballots):
            if (ballot.voter_kind, ballot.voter_id) in refused and isinstance(results[i], VoteOut):
                results[i] = Conflict("errors.poll.voted")
        valid = [b for b in valid if (b.voter_kind, b.voter_id) not in refused]
    elif again:
        await _replace(session, poll_id, again, now)
    if valid:
        await session.execute(
            PollChoice.__table__.insert(),
            [
                {"poll_id": poll_id, "voter_kind": b.voter_kind, "voter_id": b.voter_id, "option_id": o}
                for b in valid
                for o in b.option_ids
            ],
        )
    # Read again after writing (SQLite's write lock is held now): a close that came first wins.
    still = await session.scalar(select(Poll.status).where(Poll.id == poll_id))
    if still != "open":
        raise Conflict("errors.poll.closed")
    return results


def _check(ballot: Ballot, options: set[uuid.UUID], *, multiple: bool) -> None:
    if ballot.voter_kind not in ("user", "guest"):
        raise Unauthorized("errors.poll.sign_in")
    if len(set(ballot.option_ids)) != len(ballot.option_ids):
        raise InvalidInput("errors.poll.each_option")
    unknown = [str(o) for o in ballot.option_ids if o not in options]
    if unknown:
        raise InvalidInput("errors.poll.unknown_options", ids=", ".join(unknown))
    if not multiple and len(ballot.option_ids) != 1:
        raise InvalidInput("errors.poll.one_option")


async def _replace(session: AsyncSession, poll_id: uuid.UUID, ballots: list[Ballot], now: datetime) -> None:
    """Changed votes: the new options stored, the old choices removed (the new ones follow)."""
    votes, choices = PollVote.__table__, PollChoice.__table__
    same_voter = (
        votes.c.poll_id == poll_id,
        votes.c.voter_kind == bindparam("kind"),
        votes.c.voter_id == bindparam("voter"),
    )
    await session.execute(
        votes.update().where(*same_voter).values(option_ids=bindparam("chosen"), changed_at=now),
        [{"kind": b.voter_kind, "voter": b.voter_id, "chosen": [str(o) for o in b.option_ids]} for b in ballots],
    )
    await session.execute(
        choices.delete().where(
            choices.c.poll_id == poll_id,
            choices.c.voter_kind == bindparam("kind"),
            choices.c.voter_id == bindparam("voter"),
        ),
        [{"kind": b.voter_kind, "voter": b.voter_id} for b in ballots],
    )


async def open_tally(session: AsyncSession, *, poll_id: uuid.UUID) -> Tally | None:
    """The tally of a poll still open (None once closed: `poll:closed` has the final one)."""
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.status != "open":
        return None
    return await count_votes(session, poll_id, (await options_of(session, [poll_id]))[poll_id])


async def participation(session: AsyncSession, *, episode_id: uuid.UUID) -> tuple[int, int, int]:
    """The episode's polls put to the audience, their votes, and the viewers who voted in any."""
    asked = select(Poll.id).where(Poll.episode_id == episode_id, Poll.status != "draft")
    polls = await session.scalar(select(func.count()).select_from(asked.subquery()))
    votes = await session.scalar(select(func.count()).where(PollVote.poll_id.in_(asked)))
    voters = select(PollVote.voter_kind, PollVote.voter_id).where(PollVote.poll_id.in_(asked)).distinct()
    distinct_voters = await session.scalar(select(func.count()).select_from(voters.subquery()))
    return int(polls or 0), int(votes or 0), int(distinct_voters or 0)
