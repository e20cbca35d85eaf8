"""Polls of an episode: drafts prepared ahead, one open at a time during the live, and the result
kept at close, counted in the closing transaction from the stored votes (polls.votes)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import lineup
from shopcast.catalog.schemas import ProductCard
from shopcast.core.bus import Bus
from shopcast.core.errors import Conflict, InvalidInput, NotFound, Phrase, field_reason
from shopcast.core.security import Principal, authorize
from shopcast.live import service as live
from shopcast.live.events import tell_room
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.service import STAFF
from shopcast.polls import votes
from shopcast.polls.events import POLL_CLOSED, POLL_OPENED, PollClosed, PollOpened
from shopcast.polls.models import Poll, PollOption
from shopcast.polls.schemas import (
    EpisodePoll,
    Money,
    OptionOut,
    OptionProduct,
    PollIn,
    PollOut,
    PollResult,
    PollUpdate,
    PublicPoll,
    PublicPollView,
    RoomPoll,
    Tally,
)

RESULT_SHOWN_SECONDS = 60  # a closed poll stays in the join snapshot this long, for late joiners


# --- reading ---------------------------------------------------------------------------------


def _status(poll: Poll) -> Phrase:
    return Phrase(f"errors.poll_status.{poll.status}")


async def _load(session: AsyncSession, poll_id: uuid.UUID, *, lock: bool = False) -> Poll:
    query = select(Poll).where(Poll.id == poll_id)
    if lock:
        query = query.with_for_update()
    poll = await session.scalar(query)
    if poll is None:
        raise NotFound("errors.poll.none", poll_id=poll_id)
    return poll


def _product(card: ProductCard) -> OptionProduct:
    picture = card.image_urls[0] if card.image_urls else None
    return OptionProduct(
        id=card.id, title=card.title, picture_url=picture, price=Money(amount=card.price, currency=card.currency)
    )


async def _shown_products(session: AsyncSession, episode_id: uuid.UUID) -> dict[uuid.UUID, OptionProduct]:
    return {card.id: _product(card) for card in await lineup.public_lineup(session, episode_id=episode_id)}


def _public(poll: Poll, options: list[PollOption], products: dict[uuid.UUID, OptionProduct]) -> dict[str, Any]:
    return {
        "id": poll.id,
        "episode_id": poll.episode_id,
        "question": poll.question,
        "options": [
            OptionOut(id=o.id, label=o.label, product=products.get(o.product_id) if o.product_id else None)
            for o in options
        ],
        "multiple": poll.multiple,
        "allow_change": poll.allow_change,
        "quiz": poll.quiz,
        "status": poll.status,
        "opened_at": poll.opened_at,
        "closes_at": poll.closes_at,
    }


def public_poll_of(poll: Poll, options: list[PollOption], products: dict[uuid.UUID, OptionProduct]) -> PublicPoll:
    return PublicPoll(**_public(poll, options, products))


def _correct(options: list[PollOption]) -> list[uuid.UUID]:
    return [o.id for o in options if o.correct]


def _result(poll: Poll, options: list[PollOption]) -> PollResult | None:
    if poll.result is None:
        return None
    return PollResult(
        votes=poll.result["votes"],
        voters=poll.result["voters"],
        correct_option_ids=_correct(options) if poll.quiz else None,
        correct_share=poll.result.get("correct_share"),
    )


async def _tally(session: AsyncSession, poll: Poll, options: list[PollOption]) -> Tally:
    if poll.result is not None:
        return Tally(votes=poll.result["votes"], voters=poll.result["voters"])
    return await votes.count_votes(session, poll.id, options)


async def _staff_out(session: AsyncSession, polls: list[Poll], episode_id: uuid.UUID) -> list[PollOut]:
    options = await votes.options_of(session, [p.id for p in polls])
    products = await _shown_products(session, episode_id) if polls else {}
    return [
        PollOut(
            **_public(p, options[p.id], products),
            duration_seconds=p.duration_seconds,
            correct_option_ids=_correct(options[p.id]),
            tally=await _tally(session, p, options[p.id]),
            result=_result(p, options[p.id]),
            created_at=p.created_at,
            closed_at=p.closed_at,
        )
        for p in polls
    ]


async def list_polls(session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID) -> list[PollOut]:
    """The episode's polls in the order written, with tallies and results (its staff)."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *STAFF)
    polls = list(await session.scalars(select(Poll).where(Poll.episode_id == episode_id).order_by(Poll.created_at)))
    return await _staff_out(session, polls, episode_id)


async def public_poll(session: AsyncSession, *, poll_id: uuid.UUID) -> PublicPollView:
    """A poll as anyone may read it once opened: its result once closed."""
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.status == "draft":
        raise NotFound("errors.poll.none", poll_id=poll_id)
    options = (await votes.options_of(session, [poll.id]))[poll.id]
    products = await _shown_products(session, poll.episode_id)
    return PublicPollView(**_public(poll, options, products), result=_result(poll, options))


async def episode_polls(session: AsyncSession, *, episode_id: uuid.UUID) -> list[EpisodePoll]:
    """The episode's polls that were opened (drafts stay private), in the order opened, with their results."""
    await live.load_episode(session, episode_id)
    polls = list(
        await session.scalars(
            select(Poll)
            .where(Poll.episode_id == episode_id, Poll.status != "draft")
            .order_by(Poll.opened_at, Poll.created_at, Poll.id)
        )
    )
    options = await votes.options_of(session, [p.id for p in polls])
    products = await _shown_products(session, episode_id) if polls else {}
    return [
        EpisodePoll(**_public(p, options[p.id], products), result=_result(p, options[p.id]), closed_at=p.closed_at)
        for p in polls
    ]


async def room_poll(session: AsyncSession, *, episode_id: uuid.UUID, now: datetime) -> RoomPoll | None:
    """The poll in the room's join snapshot: the open one, or the one closed in the last minute (each
    joining viewer's own vote is theirs to add: `votes.votes_of`)."""
    poll = await session.scalar(
        select(Poll)
        .where(
            Poll.episode_id == episode_id,
            (Poll.status == "open")
            | ((Poll.status == "closed") & (Poll.closed_at > now - timedelta(seconds=RESULT_SHOWN_SECONDS))),
        )
        .order_by(case((Poll.status == "open", 0), else_=1), Poll.closed_at.desc())
        .limit(1)
    )
    if poll is None:
        return None
    options = (await votes.options_of(session, [poll.id]))[poll.id]
    return RoomPoll(
        **_public(poll, options, await _shown_products(session, episode_id)),
        tally=await _tally(session, poll, options),
        my_vote=None,
        result=_result(poll, options),
    )


# --- preparing ---------------------------------------------------------------------------------


async def _write_options(session: AsyncSession, poll: Poll, data: PollIn) -> None:
    wanted = [o.product_id for o in data.options if o.product_id is not None]
    cards = {c.id: c for c in await lineup.public_lineup(session, episode_id=poll.episode_id)} if wanted else {}
    missing = [str(p) for p in wanted if p not in cards]
    if missing:
        raise InvalidInput("errors.poll.not_in_lineup", ids=", ".join(missing))
    if len(set(wanted)) != len(wanted):
        raise InvalidInput("errors.poll.each_product")
    await session.execute(delete(PollOption).where(PollOption.poll_id == poll.id))
    correct = set(data.correct_options)
    for position, option in enumerate(data.options):
        label = option.label or cards[option.product_id].title[:80]  # type: ignore[index]
        session.add(
            PollOption(
                poll_id=poll.id,
                position=position,
                label=label,
                product_id=option.product_id,
                correct=position in correct,
            )
        )


def _settings(poll: Poll, data: PollIn, now: datetime) -> None:
    poll.question, poll.multiple, poll.allow_change = data.question, data.multiple, data.allow_change
    poll.duration_seconds, poll.quiz, poll.updated_at = data.duration_seconds, data.quiz, now


async def create_poll(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, data: PollIn, now: datetime
) -> PollOut:
    """Write a draft poll for the episode (its staff), to open during the live."""
    episode = await live.load_episode(session, episode_id)
    actor = authorize(actor, episode.brand_id, *STAFF)
    if episode.status in (EpisodeStatus.ENDED, EpisodeStatus.CANCELLED):
        raise Conflict("errors.poll.episode_over", status=episode.status.word)
    poll = Poll(episode_id=episode.id, brand_id=episode.brand_id, created_by=actor.id, created_at=now, status="draft")
    _settings(poll, data, now)
    session.add(poll)
    await session.flush()
    await _write_options(session, poll, data)
    await session.flush()
    return (await _staff_out(session, [poll], episode_id))[0]


async def _draft(session: AsyncSession, actor: Principal | None, poll_id: uuid.UUID) -> Poll:
    poll = await _load(session, poll_id, lock=True)
    authorize(actor, poll.brand_id, *STAFF)
    if poll.status != "draft":
        raise Conflict("errors.poll.not_draft", status=_status(poll))
    return poll


async def update_poll(
    session: AsyncSession, *, actor: Principal | None, poll_id: uuid.UUID, data: PollUpdate, now: datetime
) -> PollOut:
    """Change a draft; options given replace all of them."""
    poll = await _draft(session, actor, poll_id)
    options = (await votes.options_of(session, [poll.id]))[poll.id]
    current = {
        "question": poll.question,
        "options": [{"label": o.label, "product_id": o.product_id} for o in options],
        "multiple": poll.multiple,
        "allow_change": poll.allow_change,
        "duration_seconds": poll.duration_seconds,
        "quiz": poll.quiz,
        "correct_options": [i for i, o in enumerate(options) if o.correct],
    }
    changes = data.model_dump(exclude_unset=True)
    if "options" in changes and "correct_options" not in changes:
        changes["correct_options"] = []  # new options: the old indexes mean nothing
    if changes.get("quiz") is False:
        changes.setdefault("correct_options", [])
    try:
        merged = PollIn.model_validate({**current, **changes})
    except ValidationError as error:
        reasons = [field_reason(e) for e in error.errors(include_url=False)]
        raise InvalidInput("errors.field.reasons", reasons=reasons) from None
    _settings(poll, merged, now)
    await _write_options(session, poll, merged)
    await session.flush()
    return (await _staff_out(session, [poll], poll.episode_id))[0]


async def delete_poll(session: AsyncSession, *, actor: Principal | None, poll_id: uuid.UUID) -> None:
    poll = await _draft(session, actor, poll_id)
    await session.delete(poll)


# --- on air ----------------------------------------------------------------------------------


async def open_poll(
    session: AsyncSession, *, actor: Principal | None, poll_id: uuid.UUID, now: datetime, bus: Bus
) -> PollOut:
    """Open a draft during the live: every viewer gets `poll:opened`."""
    poll = await _load(session, poll_id)
    authorize(actor, poll.brand_id, *STAFF)
    # Locked: two opens at once in one episode go one after the other.
    episode = await live.load_episode(session, poll.episode_id, for_update=True)
    if episode.status != EpisodeStatus.LIVE:
        raise Conflict("errors.poll.opens_live", status=episode.status.word)
    opened = await session.scalar(
        update(Poll)
        .where(Poll.id == poll_id, Poll.status == "draft")
        .values(
            status="open",
            opened_at=now,
            updated_at=now,
            closes_at=now + timedelta(seconds=poll.duration_seconds) if poll.duration_seconds else None,
        )
        .returning(Poll.id)
        .execution_options(synchronize_session=False)
    )
    if opened is None:
        await session.refresh(poll)
        raise Conflict("errors.poll.open_not_draft", status=_status(poll))
    # Counted after the write, which holds SQLite's write lock: another open cannot slip in.
    open_here = await session.scalar(
        select(func.count()).select_from(Poll).where(Poll.episode_id == poll.episode_id, Poll.status == "open")
    )
    if (open_here or 0) > 1:
        raise Conflict("errors.poll.another_open")
    await session.refresh(poll)
    out = (await _staff_out(session, [poll], poll.episode_id))[0]
    opened_event = PollOpened(poll=PublicPoll(**out.model_dump(include=set(PublicPoll.model_fields))))
    tell_room(session, bus, poll.episode_id, POLL_OPENED, opened_event.model_dump(mode="json"))
    return out


async def _close(session: AsyncSession, poll_id: uuid.UUID, *, now: datetime, bus: Bus) -> bool:
    """Close the poll unless something else did, store its final tally and tell the room."""
    closed = await session.scalar(
        update(Poll)
        .where(Poll.id == poll_id, Poll.status == "open")
        .values(status="closed", closed_at=now, updated_at=now)
        .returning(Poll.id)
        .execution_options(synchronize_session=False)
    )
    if closed is None:
        return False
    poll = await _load(session, poll_id)
    await session.refresh(poll)
    options = (await votes.options_of(session, [poll.id]))[poll.id]
    tally = await votes.count_votes(session, poll.id, options)
    share = None
    if poll.quiz and tally.voters:
        share = await votes.right_voters(session, poll.id, _correct(options)) / tally.voters
    poll.result = {"votes": tally.votes, "voters": tally.voters, "correct_share": share}
    await session.flush()
    products = await _shown_products(session, poll.episode_id)
    event = PollClosed(poll=public_poll_of(poll, options, products), result=_result(poll, options))  # type: ignore[arg-type]
    tell_room(session, bus, poll.episode_id, POLL_CLOSED, event.model_dump(mode="json"))
    return True


async def close_poll(
    session: AsyncSession, *, actor: Principal | None, poll_id: uuid.UUID, now: datetime, bus: Bus
) -> PollOut:
    """Close an open poll now: the result is frozen for everyone (`poll:closed`)."""
    poll = await _load(session, poll_id)
    authorize(actor, poll.brand_id, *STAFF)
    if not await _close(session, poll_id, now=now, bus=bus):
        raise Conflict("errors.poll.already_closed" if poll.status == "closed" else "errors.poll.not_open")
    await session.refresh(poll)
    return (await _staff_out(session, [poll], poll.episode_id))[0]


async def close_due(session: AsyncSession, *, now: datetime, bus: Bus) -> int:
    """Close the polls whose countdown is over, or whose live has ended (safe on every process at
    once); how many this call closed."""
    # In id order: processes closing the same polls at once lock them in the same order.
    candidates = list(
        await session.execute(
            select(Poll.id, Poll.episode_id, Poll.closes_at).where(Poll.status == "open").order_by(Poll.id)
        )
    )
    if not candidates:
        return 0
    closing = []
    live_now: dict[uuid.UUID, bool] = {}
    for poll_id, episode_id, closes_at in candidates:
        if episode_id not in live_now:
            episode = await live.load_episode(session, episode_id)
            live_now[episode_id] = episode.status == EpisodeStatus.LIVE
        if (closes_at is not None and closes_at <= now) or not live_now[episode_id]:
            closing.append(poll_id)
    closed = 0
    for poll_id in closing:
        closed += await _close(session, poll_id, now=now, bus=bus)
    return closed
