"""What anyone sees of an episode's giveaways without signing in: the ones that opened, so the replay
page can show every draw's proof and reveal the winners at their moment. Counts, entry ids and the
seed only (all in the public proof already); never an entrant's name or claim."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.contests.models import Giveaway, GiveawayEntry, GiveawayRound, GiveawayWinner
from shopcast.contests.schemas import DrawnRound, EpisodeGiveaway
from shopcast.contests.service import public_out
from shopcast.live import service as live


async def episode_giveaways(session: AsyncSession, *, episode_id: uuid.UUID) -> list[EpisodeGiveaway]:
    """The episode's giveaways that were opened (drafts stay private), oldest first."""
    await live.load_episode(session, episode_id)
    found = list(
        await session.scalars(
            select(Giveaway)
            .where(Giveaway.episode_id == episode_id, Giveaway.status != "draft")
            .order_by(Giveaway.opened_at, Giveaway.created_at, Giveaway.id)
        )
    )
    ids = [g.id for g in found]
    entries = dict(
        (
            await session.execute(
                select(GiveawayEntry.giveaway_id, func.count())
                .where(GiveawayEntry.giveaway_id.in_(ids))
                .group_by(GiveawayEntry.giveaway_id)
            )
        ).all()
    )
    draws = await _draws(session, ids)
    return [
        EpisodeGiveaway(
            **public_out(g, int(entries.get(g.id, 0))).model_dump(),
            seed=g.seed if g.status == "drawn" else None,
            rounds=len(draws.get(g.id, [])),
            opened_at=g.opened_at,
            closed_at=g.closed_at,
            drawn_at=g.drawn_at,
            draws=draws.get(g.id, []),
        )
        for g in found
    ]


async def _draws(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DrawnRound]]:
    """Each giveaway's rounds in order, with the entries each one picked."""
    picked: dict[tuple[uuid.UUID, int], list[uuid.UUID]] = {}
    for giveaway_id, round_, entry_id in await session.execute(
        select(GiveawayWinner.giveaway_id, GiveawayWinner.round, GiveawayWinner.entry_id)
        .where(GiveawayWinner.giveaway_id.in_(ids))
        .order_by(GiveawayWinner.round, GiveawayWinner.position)
    ):
        picked.setdefault((giveaway_id, round_), []).append(entry_id)
    draws: dict[uuid.UUID, list[DrawnRound]] = {}
    for drawn in await session.scalars(
        select(GiveawayRound).where(GiveawayRound.giveaway_id.in_(ids)).order_by(GiveawayRound.round)
    ):
        draws.setdefault(drawn.giveaway_id, []).append(
            DrawnRound(
                round=drawn.round,
                at=drawn.drawn_at,
                eligible=len(drawn.eligible),
                winners=picked.get((drawn.giveaway_id, drawn.round), []),
            )
        )
    return draws
