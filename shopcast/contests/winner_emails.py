"""A giveaway's winners are emailed their claim link as soon as they are drawn (or redrawn).

Entries carry no email: a winner is written to at the email they gave the brand with their identity
(their last order, else the one typed at checkout; `catalog.buyers`), in that language. A winner who
gave none is told only on the watch page, as before. Run by the outbox worker every
SHOPCAST_OUTBOX_SWEEP_SECONDS; each winner is claimed (`told_at`) in the transaction that queues the
email, so two workers never both send it. It answers the winner's own entry: an unsubscribe from
reminders does not stop it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog.buyers import email_of
from shopcast.contests.models import Giveaway, GiveawayEntry, GiveawayWinner
from shopcast.core.db import Database
from shopcast.emails import service as emails
from shopcast.emails.compose import moment
from shopcast.live import service as live
from shopcast.reminders.contacts import Links

BATCH = 100


async def sweep(database: Database, *, now: datetime, links: Links) -> int:
    """Email every winner drawn and not told yet whose claim is still open; how many emails were queued."""
    queued = 0
    while True:
        async with database.transaction() as session:
            seen, written = await _tell_batch(session, now=now, links=links)
        queued += written
        if seen < BATCH:
            return queued


async def _tell_batch(session: AsyncSession, *, now: datetime, links: Links) -> tuple[int, int]:
    rows = (
        await session.execute(
            select(GiveawayWinner, GiveawayEntry, Giveaway)
            .join(GiveawayEntry, GiveawayEntry.id == GiveawayWinner.entry_id)
            .join(Giveaway, Giveaway.id == GiveawayWinner.giveaway_id)
            .where(
                GiveawayWinner.told_at.is_(None),
                GiveawayWinner.claimed_at.is_(None),
                GiveawayWinner.redrawn_in.is_(None),
                GiveawayWinner.claim_deadline > now,
            )
            .order_by(GiveawayWinner.claim_deadline, GiveawayWinner.id)
            .limit(BATCH)
            .with_for_update(of=GiveawayWinner, skip_locked=True)
        )
    ).all()
    written = 0
    for winner, entry, giveaway in rows:
        claimed = await session.execute(
            update(GiveawayWinner)
            .where(GiveawayWinner.id == winner.id, GiveawayWinner.told_at.is_(None))
            .values(told_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            written += await _tell(session, winner, entry, giveaway, now=now, links=links) is not None
    return len(rows), written


async def _tell(
    session: AsyncSession,
    winner: GiveawayWinner,
    entry: GiveawayEntry,
    giveaway: Giveaway,
    *,
    now: datetime,
    links: Links,
) -> uuid.UUID | None:
    known = await email_of(
        session, brand_id=giveaway.brand_id, viewer_kind=entry.viewer_kind, viewer_id=entry.viewer_id
    )
    if known is None:
        return None
    email, language = known
    brand = await accounts.get_brand_by_id(session, brand_id=giveaway.brand_id)
    language = language or brand.default_language
    episode = await live.load_episode(session, giveaway.episode_id)
    show = await live.load_show(session, episode.show_id)
    context = {
        "name": entry.viewer_name,
        "prize": giveaway.prize_title,
        "deadline": moment(winner.claim_deadline, show.time_zone, language=language),
        "claim_url": links.page(f"/claim/{giveaway.id}"),
    }
    return await emails.queue(
        session,
        brand_id=giveaway.brand_id,
        brand_name=brand.name,
        to=email,
        to_name=entry.viewer_name,
        language=language,
        template="giveaway_won",
        context=context,
        now=now,
        about=f"giveaway:{giveaway.id}",
    )
