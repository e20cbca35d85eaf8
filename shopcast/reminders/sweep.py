"""What the viewers who asked are told, as it comes due: the reminder shortly before an episode starts
(the brand's `reminder_lead_minutes`), "we're live" once it is, a short notice if it is cancelled.

Run by the outbox worker every SHOPCAST_OUTBOX_SWEEP_SECONDS: it reads the episodes as they are now, so
an episode moved (by hand, or by its show's new schedule) is reminded of at its new time, with no message
queued ahead to find and re-time, and nothing is lost to a restart. Each notice is claimed by a
conditional UPDATE of the reminder in the transaction that queues its email: two workers never both
queue it (PostgreSQL: the rows are read `FOR UPDATE SKIP LOCKED`, so they do not wait for each other).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.core.db import Database
from shopcast.emails.compose import moment, time_of_day
from shopcast.live import service as live
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode
from shopcast.live.schemas import EpisodeOut
from shopcast.reminders.contacts import Links, write
from shopcast.reminders.models import Contact, EpisodeReminder

BATCH = 200  # reminders told per transaction
_R = EpisodeReminder


@dataclass(frozen=True)
class Notice:
    """One kind of notice: its email, which reminders it is due for, and how telling one is recorded
    (`claim(episode_start, now)`: the condition it is still due on, and the values that say it was told)."""

    template: str
    due: list[ColumnElement[bool]]
    claim: Callable[[datetime, datetime], tuple[ColumnElement[bool], dict[str, Any]]]


def _reminder(lead_minutes: int, now: datetime) -> Notice:
    """Shortly before the start, for episodes of brands reminding `lead_minutes` ahead; an episode
    reminded of and then moved is reminded of again for its new start."""

    def claim(starts_at: datetime, _now: datetime) -> tuple[ColumnElement[bool], dict[str, Any]]:
        return or_(_R.reminded_for.is_(None), _R.reminded_for != starts_at), {"reminded_for": starts_at}

    due = [
        Brand.reminder_lead_minutes == lead_minutes,
        Episode.status == EpisodeStatus.SCHEDULED,
        Episode.starts_at > now,  # an episode that should have started gets no reminder
        Episode.starts_at <= now + timedelta(minutes=lead_minutes),
        or_(_R.reminded_for.is_(None), _R.reminded_for != Episode.starts_at),
    ]
    return Notice("episode_reminder", due, claim)


def _told_once(template: str, status: EpisodeStatus, told_at: Any) -> Notice:
    def claim(_starts_at: datetime, now: datetime) -> tuple[ColumnElement[bool], dict[str, Any]]:
        return told_at.is_(None), {told_at.key: now}

    return Notice(template, [Episode.status == status, told_at.is_(None)], claim)


LIVE = _told_once("episode_live", EpisodeStatus.LIVE, _R.live_told_at)
CANCELLED = _told_once("episode_cancelled", EpisodeStatus.CANCELLED, _R.cancel_told_at)


async def sweep(database: Database, *, now: datetime, links: Links) -> int:
    """Queue every reminder and notice due now; how many emails were queued."""
    async with database.transaction() as session:
        leads = list(await session.scalars(select(Brand.reminder_lead_minutes).distinct()))
    queued = 0
    for notice in [*(_reminder(lead, now) for lead in leads), LIVE, CANCELLED]:
        while True:
            async with database.transaction() as session:
                seen, written = await _tell_batch(session, notice, now=now, links=links)
            queued += written
            if seen < BATCH:
                break
    return queued


async def _tell_batch(session: AsyncSession, notice: Notice, *, now: datetime, links: Links) -> tuple[int, int]:
    """Tell up to BATCH reminders; (how many were due, how many emails were queued)."""
    rows = (
        await session.execute(
            select(_R, Contact, Episode)
            .join(Contact, Contact.id == _R.contact_id)
            .join(Episode, Episode.id == _R.episode_id)
            .join(Brand, Brand.id == _R.brand_id)
            .where(*notice.due)
            .order_by(Episode.starts_at, _R.id)
            .limit(BATCH)
            .with_for_update(of=_R, skip_locked=True)
        )
    ).all()
    shown = await _episodes(session, [episode for _, _, episode in rows])
    brands: dict[uuid.UUID, str] = {}
    written = 0
    for reminder, contact, episode in rows:
        still_due, told = notice.claim(episode.starts_at, now)
        claimed = await session.execute(
            update(_R)
            .where(_R.id == reminder.id, still_due)
            .values(**told)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # told meanwhile, by another worker
        if reminder.brand_id not in brands:
            brands[reminder.brand_id] = (await accounts.get_brand_by_id(session, brand_id=reminder.brand_id)).name
        sent = await write(
            session,
            contact=contact,
            brand_name=brands[reminder.brand_id],
            language=reminder.language,
            template=notice.template,
            context=_context(shown[episode.id], reminder.language, links),
            links=links,
            now=now,
            about=f"reminder:{reminder.id}",
        )
        written += sent is not None
    return len(rows), written


async def _episodes(session: AsyncSession, episodes: list[Episode]) -> dict[uuid.UUID, EpisodeOut]:
    """The episodes as viewers see them (their show's title and time zone)."""
    distinct = list({episode.id: episode for episode in episodes}.values())
    shows = {show_id: await live.load_show(session, show_id) for show_id in {e.show_id for e in distinct}}
    return {shown.id: shown for shown in await live.episodes_out(session, distinct, shows)}


def _context(episode: EpisodeOut, language: str, links: Links) -> dict[str, Any]:
    same_title = episode.show_title.strip().lower() == episode.title.strip().lower()
    return {
        "title": episode.title,
        "show_title": None if same_title else episode.show_title,
        "when": moment(episode.starts_at, episode.time_zone, language=language),
        "time": time_of_day(episode.starts_at, episode.time_zone, language=language),
        "watch_url": links.page(f"/watch/{episode.id}"),
    }
