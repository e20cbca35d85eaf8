"""A viewer asks to be reminded of a coming episode ("Remind me" on its countdown), with their consent."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.core.catalogues import languages, translate
from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import Conflict, InvalidInput
from shopcast.core.ids import new_id
from shopcast.live import service as live
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.reminders.contacts import contact_for
from shopcast.reminders.models import EpisodeReminder
from shopcast.reminders.schemas import ReminderIn, ReminderOut

CONSENT = "reminders.consent"  # the catalogue key of the consent's words, as the watch page shows them


async def subscribe(
    session: AsyncSession, *, episode_id: uuid.UUID, data: ReminderIn, language: str | None, now: datetime
) -> ReminderOut:
    """Remind this address of the episode before it starts and when it goes live (once per address and
    episode: asking again changes nothing); the consent is kept as given, in `language` (the page's)."""
    episode = await live.load_episode(session, episode_id)
    if episode.status == EpisodeStatus.CANCELLED:
        raise Conflict("errors.reminders.cancelled")
    if episode.status != EpisodeStatus.SCHEDULED or episode.starts_at <= now:
        raise Conflict("errors.reminders.started")
    brand = await accounts.get_brand_by_id(session, brand_id=episode.brand_id)
    language = language if language in languages() else brand.default_language
    wording = translate(language, CONSENT)
    if data.consent_text is not None and " ".join(data.consent_text.split()) != wording:
        raise InvalidInput("errors.reminders.consent_text")
    contact = await contact_for(session, brand_id=brand.id, email=str(data.email), language=language, now=now)
    values = {
        "id": new_id(),
        "episode_id": episode.id,
        "brand_id": brand.id,
        "contact_id": contact.id,
        "language": language,
        "consent_text": wording,
        "consent_at": now,
    }
    await session.execute(insert_ignoring_duplicates(session, EpisodeReminder.__table__).values(values))
    reminder = await session.scalar(
        select(EpisodeReminder).where(
            EpisodeReminder.episode_id == episode.id, EpisodeReminder.contact_id == contact.id
        )
    )
    assert reminder is not None
    remind_at = max(now, episode.starts_at - timedelta(minutes=brand.reminder_lead_minutes))
    return ReminderOut(
        episode_id=episode.id,
        email=contact.email,
        language=reminder.language,
        remind_at=remind_at,
        starts_at=episode.starts_at,
        consent_at=reminder.consent_at,
    )
