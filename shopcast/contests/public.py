"""What anyone sees of an episode's giveaways without signing in: the ones that opened, so the replay
page can show every draw's proof. Counts and the seed only; never an entrant's name or claim."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.contests.models import Giveaway, GiveawayEntry, GiveawayRound
from shopcast.contests.schemas import EpisodeGiveaway
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
    rounds = dict(
        (
            await session.execute(
                select(GiveawayRound.giveaway_id, func.count())
                .where(GiveawayRound.giveaway_id.in_(ids))
                .group_by(GiveawayRound.giveaway_id)
            )
        ).all()
    )
    return [
        EpisodeGiveaway(
            **public_out(g, int(entries.get(g.id, 0))).model_dump(),
            seed=g.seed if g.status == "drawn" else None,
            rounds=int(rounds.get(g.id, 0)),
            opened_at=g.opened_at,
            drawn_at=g.drawn_at,
        )
        for g in found
    ]
