"""Giveaways' use cases: drafts, entries, the draw and redraws, claims, proofs.

Entries open with a seed drawn then and kept secret, its SHA-256 published at once; the draw
reveals it, and the winners follow from it and the sorted eligible entry ids alone
(`contests.draw`). A redraw of unclaimed prizes uses the same seed with the next round, so no
draw ever uses a seed chosen once the entries were known.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.catalog import lineup
from shopcast.chat import audience
from shopcast.chat import service as chat
from shopcast.contests import draw, events
from shopcast.contests.models import Giveaway, GiveawayEntry, GiveawayRound, GiveawayWinner
from shopcast.contests.schemas import (
    DrawnWinner,
    Eligibility,
    GiveawayIn,
    GiveawayPatch,
    Prize,
    PrizeValue,
    Proof,
    ProofRound,
    PublicGiveaway,
    StaffGiveaway,
    WinnerOut,
)
from shopcast.core.bus import Bus
from shopcast.core.errors import Conflict, InvalidInput, NotFound, Phrase
from shopcast.core.security import Principal, Role, authorize
from shopcast.live import service as live
from shopcast.live.events import tell_room
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode
from shopcast.live.service import ON_AIR, STAFF
from shopcast.webhooks import service as webhooks
from shopcast.webhooks.events import GIVEAWAY_DRAWN

# --- reading ---------------------------------------------------------------------------------


async def load_giveaway(session: AsyncSession, giveaway_id: uuid.UUID) -> Giveaway:
    giveaway = await session.get(Giveaway, giveaway_id)
    if giveaway is None:
        raise NotFound("errors.giveaway.none", giveaway_id=giveaway_id)
    return giveaway


async def entry_count(session: AsyncSession, giveaway_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(GiveawayEntry).where(GiveawayEntry.giveaway_id == giveaway_id)
        )
        or 0
    )


def public_out(giveaway: Giveaway, entries: int) -> PublicGiveaway:
    return PublicGiveaway(
        id=giveaway.id,
        episode_id=giveaway.episode_id,
        prize=Prize(
            title=giveaway.prize_title,
            picture_url=giveaway.prize_picture_url,
            value=PrizeValue(amount=giveaway.prize_value, currency=giveaway.prize_currency),
        ),
        winners=giveaway.winners,
        rules=giveaway.rules,
        entry=giveaway.entry,  # type: ignore[arg-type]
        keyword=giveaway.keyword,
        eligibility=Eligibility(
            present_at_draw=giveaway.present_at_draw,
            min_watch_minutes=giveaway.min_watch_minutes,
            bought_during_show=giveaway.bought_during_show,
        ),
        status=giveaway.status,  # type: ignore[arg-type]
        commitment=giveaway.commitment,
        entries=entries,
    )


def claim_status(winner: GiveawayWinner, now: datetime) -> str:
    if winner.claimed_at is not None:
        return "claimed"
    return "expired" if winner.redrawn_in is not None or now >= winner.claim_deadline else "pending"


async def winners_of(session: AsyncSession, giveaway_id: uuid.UUID) -> list[tuple[GiveawayWinner, str]]:
    """Every winner of the giveaway with the entrant's name, in the order drawn."""
    rows = await session.execute(
        select(GiveawayWinner, GiveawayEntry.viewer_name)
        .join(GiveawayEntry, GiveawayEntry.id == GiveawayWinner.entry_id)
        .where(GiveawayWinner.giveaway_id == giveaway_id)
        .order_by(GiveawayWinner.round, GiveawayWinner.position)
    )
    return [(winner, name) for winner, name in rows]


async def staff_out(
    session: AsyncSession, giveaway: Giveaway, *, actor: Principal | None, now: datetime
) -> StaffGiveaway:
    """The giveaway as its brand's staff see it; what winners sent to claim (addresses) only managers."""
    claims = actor is not None and actor.roles.get(giveaway.brand_id) == Role.MANAGER
    public = public_out(giveaway, await entry_count(session, giveaway.id))
    return StaffGiveaway(
        **public.model_dump(),
        claim_hours=giveaway.claim_hours,
        seed=giveaway.seed if giveaway.status == "drawn" else None,
        created_at=giveaway.created_at,
        opened_at=giveaway.opened_at,
        closed_at=giveaway.closed_at,
        drawn_at=giveaway.drawn_at,
        drawn_winners=[
            WinnerOut(
                entry_id=w.entry_id,
                name=name,
                round=w.round,
                claim_deadline=w.claim_deadline,
                status=claim_status(w, now),  # type: ignore[arg-type]
                claimed_at=w.claimed_at,
                claim=w.claim if claims else None,
            )
            for w, name in await winners_of(session, giveaway.id)
        ],
    )


async def list_giveaways(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime
) -> list[StaffGiveaway]:
    """The episode's giveaways for its brand's staff, oldest first, with winners and claims."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *STAFF)
    found = await session.scalars(
        select(Giveaway).where(Giveaway.episode_id == episode_id).order_by(Giveaway.created_at, Giveaway.id)
    )
    return [await staff_out(session, g, actor=actor, now=now) for g in found]


# --- drafts ----------------------------------------------------------------------------------


def _apply(giveaway: Giveaway, data: GiveawayIn) -> None:
    giveaway.prize_title = data.prize.title
    giveaway.prize_picture_url = data.prize.picture_url
    giveaway.prize_value = data.prize.value.amount
    giveaway.prize_currency = data.prize.value.currency
    giveaway.winners = data.winners
    giveaway.rules = data.rules
    giveaway.entry = data.entry
    giveaway.keyword = data.keyword
    giveaway.present_at_draw = data.eligibility.present_at_draw
    giveaway.min_watch_minutes = data.eligibility.min_watch_minutes
    giveaway.bought_during_show = data.eligibility.bought_during_show
    giveaway.claim_hours = data.claim_hours


async def create_giveaway(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, data: GiveawayIn, now: datetime
) -> StaffGiveaway:
    """Prepare a giveaway for an episode (managers); it opens later, on air."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, Role.MANAGER)
    if episode.status not in (EpisodeStatus.SCHEDULED, EpisodeStatus.LIVE):
        raise Conflict("errors.giveaway.episode_over", status=episode.status.word)
    giveaway = Giveaway(
        episode_id=episode.id, brand_id=episode.brand_id, status="draft", created_at=now, updated_at=now
    )
    _apply(giveaway, data)
    session.add(giveaway)
    await session.flush()
    return await staff_out(session, giveaway, actor=actor, now=now)


async def _draft(session: AsyncSession, actor: Principal | None, giveaway_id: uuid.UUID) -> Giveaway:
    giveaway = await load_giveaway(session, giveaway_id)
    authorize(actor, giveaway.brand_id, Role.MANAGER)
    if giveaway.status != "draft":
        raise Conflict("errors.giveaway.not_draft", status=_status(giveaway))
    return giveaway


async def update_giveaway(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, data: GiveawayPatch, now: datetime
) -> StaffGiveaway:
    """Change a draft (managers): the fields sent replace the draft's."""
    giveaway = await _draft(session, actor, giveaway_id)
    current = public_out(giveaway, 0)
    merged = {**current.model_dump(include=set(GiveawayIn.model_fields)), "claim_hours": giveaway.claim_hours}
    merged.update(data.model_dump(exclude_unset=True, exclude_none=True))
    try:
        _apply(giveaway, GiveawayIn.model_validate(merged))
    except ValueError as exc:  # a keyword entry left without its keyword
        raise InvalidInput("errors.giveaway.keyword") from exc
    giveaway.updated_at = now
    return await staff_out(session, giveaway, actor=actor, now=now)


async def delete_giveaway(session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID) -> None:
    """Delete a draft (managers)."""
    await session.delete(await _draft(session, actor, giveaway_id))


# --- on air ----------------------------------------------------------------------------------


async def _on_air(session: AsyncSession, actor: Principal | None, giveaway_id: uuid.UUID) -> tuple[Giveaway, Episode]:
    giveaway = await load_giveaway(session, giveaway_id)
    authorize(actor, giveaway.brand_id, *ON_AIR)
    return giveaway, await live.load_episode(session, giveaway.episode_id)


def _status(giveaway: Giveaway) -> Phrase:
    return Phrase(f"errors.giveaway_status.{giveaway.status}")


def _must_be_live(episode: Episode, key: str) -> None:
    """409 unless the episode is live (`key`: the reason, with the episode's `status`)."""
    if episode.status != EpisodeStatus.LIVE:
        raise Conflict(key, status=episode.status.word)


async def open_giveaway(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, now: datetime, bus: Bus
) -> StaffGiveaway:
    """Open entries (host, manager; live only): the seed is drawn now and its commitment published."""
    giveaway, episode = await _on_air(session, actor, giveaway_id)
    if giveaway.status != "draft":
        raise Conflict("errors.giveaway.already", status=_status(giveaway))
    _must_be_live(episode, "errors.giveaway.open_live")
    other = await session.scalar(
        select(Giveaway.id).where(Giveaway.episode_id == episode.id, Giveaway.status == "open").limit(1)
    )
    if other is not None:
        raise Conflict("errors.giveaway.another_open")
    giveaway.seed = draw.new_seed()
    giveaway.commitment = draw.commitment(giveaway.seed)
    giveaway.status, giveaway.opened_at, giveaway.updated_at = "open", now, now
    await session.flush()
    shown = events.GiveawayOpened(giveaway=public_out(giveaway, 0))
    tell_room(session, bus, episode.id, events.GIVEAWAY_OPENED, shown.model_dump(mode="json"))
    return await staff_out(session, giveaway, actor=actor, now=now)


async def close_giveaway(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, now: datetime, bus: Bus
) -> StaffGiveaway:
    """Stop taking entries (host, manager)."""
    giveaway, _ = await _on_air(session, actor, giveaway_id)
    if giveaway.status != "open":
        raise Conflict("errors.giveaway.close_not_open", status=_status(giveaway))
    closed = await session.execute(
        update(Giveaway)
        .where(Giveaway.id == giveaway.id, Giveaway.status == "open")
        .values(status="closed", closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("errors.giveaway.closed_meanwhile")
    await session.refresh(giveaway)
    shown = events.GiveawayClosed(giveaway_id=giveaway.id, entries=await entry_count(session, giveaway.id))
    tell_room(session, bus, giveaway.episode_id, events.GIVEAWAY_CLOSED, shown.model_dump(mode="json"))
    return await staff_out(session, giveaway, actor=actor, now=now)


async def eligible_entries(session: AsyncSession, giveaway: Giveaway, episode: Episode, *, now: datetime) -> list[str]:
    """The ids of the entries that may win now, sorted as the draw takes them."""
    rows = await session.execute(
        select(GiveawayEntry.id, GiveawayEntry.viewer_kind, GiveawayEntry.viewer_id).where(
            GiveawayEntry.giveaway_id == giveaway.id, GiveawayEntry.created_at <= (giveaway.closed_at or now)
        )
    )
    entries = {entry_id: (kind, viewer_id) for entry_id, kind, viewer_id in rows}
    excluded = await chat.restricted_viewers(session, brand_id=giveaway.brand_id, now=now)
    wanted = {entry_id: viewer for entry_id, viewer in entries.items() if viewer not in excluded}
    if giveaway.present_at_draw:
        present = await audience.present_viewers(session, episode_id=episode.id)
        wanted = {e: v for e, v in wanted.items() if v in present}
    if giveaway.min_watch_minutes:
        watched = await audience.watch_seconds_by_viewer(session, episode_id=episode.id, now=now)
        wanted = {e: v for e, v in wanted.items() if watched.get(v, 0) >= giveaway.min_watch_minutes * 60}
    if giveaway.bought_during_show:
        since = episode.went_live_at or now
        bought = await lineup.buyers(session, episode_id=episode.id, since=since, until=episode.ended_at or now)
        wanted = {e: v for e, v in wanted.items() if v in bought}
    return sorted(str(entry_id) for entry_id in wanted)


async def _record_round(
    session: AsyncSession, giveaway: Giveaway, *, round: int, prizes: int, eligible: list[str], now: datetime
) -> list[uuid.UUID]:
    assert giveaway.seed is not None
    picked = [uuid.UUID(e) for e in draw.draw_round(giveaway.seed, eligible, round=round, prizes=prizes)]
    session.add(GiveawayRound(giveaway_id=giveaway.id, round=round, prizes=prizes, eligible=eligible, drawn_at=now))
    deadline = now + timedelta(hours=giveaway.claim_hours)
    for position, entry_id in enumerate(picked):
        session.add(
            GiveawayWinner(
                giveaway_id=giveaway.id, entry_id=entry_id, round=round, position=position, claim_deadline=deadline
            )
        )
    await session.flush()
    return picked


async def _tell_drawn(
    session: AsyncSession,
    bus: Bus,
    giveaway: Giveaway,
    *,
    round: int,
    picked: list[uuid.UUID],
    eligible: int,
    now: datetime,
) -> None:
    """The room hears of the winners once committed, and the brand's shop (`giveaway.drawn`) with them."""
    rows = await session.execute(
        select(GiveawayEntry.id, GiveawayEntry.viewer_name).where(GiveawayEntry.id.in_(picked))
    )
    names = {entry_id: name for entry_id, name in rows}
    assert giveaway.seed is not None
    drawn = events.GiveawayDrawn(
        giveaway_id=giveaway.id,
        round=round,
        seed=giveaway.seed,
        winners=[DrawnWinner(entry_id=e, name=names.get(e, "")) for e in picked],
        eligible=eligible,
        proof_url=events.proof_url(giveaway.id),
    )
    event = events.GIVEAWAY_DRAWN if round == 0 else events.GIVEAWAY_REDRAWN
    tell_room(session, bus, giveaway.episode_id, event, drawn.model_dump(mode="json"))
    for_shop = events.GiveawayDrawnWebhook(
        **drawn.model_dump(), episode_id=giveaway.episode_id, prize_title=giveaway.prize_title
    )
    about = f"giveaway:{giveaway.id}"
    await webhooks.emit(session, brand_id=giveaway.brand_id, event=GIVEAWAY_DRAWN, data=for_shop, now=now, about=about)


async def draw_winners(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, now: datetime, bus: Bus
) -> StaffGiveaway:
    """Draw the winners among the eligible entries (host, manager; live only) and reveal the seed."""
    giveaway, episode = await _on_air(session, actor, giveaway_id)
    if giveaway.status == "drawn":
        raise Conflict("errors.giveaway.drawn_redraw_later")
    if giveaway.status != "closed":
        raise Conflict("errors.giveaway.close_first", status=_status(giveaway))
    _must_be_live(episode, "errors.giveaway.draw_live")
    eligible = await eligible_entries(session, giveaway, episode, now=now)
    if not eligible:
        raise Conflict("errors.giveaway.no_eligible")
    drawn = await session.execute(
        update(Giveaway)
        .where(Giveaway.id == giveaway.id, Giveaway.status == "closed")
        .values(status="drawn", drawn_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if drawn.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("errors.giveaway.drawn")
    await session.refresh(giveaway)
    picked = await _record_round(session, giveaway, round=0, prizes=giveaway.winners, eligible=eligible, now=now)
    await _tell_drawn(session, bus, giveaway, round=0, picked=picked, eligible=len(eligible), now=now)
    return await staff_out(session, giveaway, actor=actor, now=now)


async def redraw(
    session: AsyncSession, *, actor: Principal | None, giveaway_id: uuid.UUID, now: datetime, bus: Bus
) -> StaffGiveaway:
    """Draw again for every prize whose claim deadline passed unclaimed (host, manager)."""
    giveaway, _ = await _on_air(session, actor, giveaway_id)
    if giveaway.status != "drawn":
        raise Conflict("errors.giveaway.no_winner_yet", status=_status(giveaway))
    winners = [w for w, _ in await winners_of(session, giveaway.id)]
    lapsed = [w for w in winners if claim_status(w, now) == "expired" and w.redrawn_in is None]
    if not lapsed:
        raise Conflict("errors.giveaway.nothing_to_redraw")
    first = await session.get(GiveawayRound, (giveaway.id, 0))
    assert first is not None
    round = max(w.round for w in winners) + 1
    already = {str(w.entry_id) for w in winners}
    eligible = [e for e in first.eligible if e not in already]
    if not eligible:
        raise Conflict("errors.giveaway.none_left")
    marked = await session.execute(
        update(GiveawayWinner)
        .where(GiveawayWinner.id.in_([w.id for w in lapsed]), GiveawayWinner.redrawn_in.is_(None))
        .values(redrawn_in=round)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != len(lapsed):  # type: ignore[attr-defined]
        raise Conflict("errors.giveaway.redrawn_meanwhile")
    picked = await _record_round(session, giveaway, round=round, prizes=len(lapsed), eligible=eligible, now=now)
    await _tell_drawn(session, bus, giveaway, round=round, picked=picked, eligible=len(eligible), now=now)
    giveaway.updated_at = now
    for winner in lapsed:
        await session.refresh(winner)
    return await staff_out(session, giveaway, actor=actor, now=now)


# --- the public proof ------------------------------------------------------------------------


async def proof(session: AsyncSession, *, giveaway_id: uuid.UUID) -> Proof:
    """What anyone needs to check the draw: no personal data, only entry ids."""
    giveaway = await load_giveaway(session, giveaway_id)
    if giveaway.status == "draft":
        raise NotFound("errors.giveaway.none", giveaway_id=giveaway_id)
    rounds = list(
        await session.scalars(
            select(GiveawayRound).where(GiveawayRound.giveaway_id == giveaway.id).order_by(GiveawayRound.round)
        )
    )
    winners = [w for w, _ in await winners_of(session, giveaway.id)]
    return Proof(
        giveaway_id=giveaway.id,
        commitment=giveaway.commitment,
        seed=giveaway.seed if giveaway.status == "drawn" else None,
        algorithm=draw.ALGORITHM,
        rounds=[
            ProofRound(
                round=r.round,
                prizes=r.prizes,
                eligible_entry_ids=r.eligible,
                winners=[str(w.entry_id) for w in winners if w.round == r.round],
            )
            for r in rounds
        ],
    )
