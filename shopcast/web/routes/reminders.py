"""Viewers asking to be reminded of a coming episode, over HTTP (no sign-in needed)."""

from __future__ import annotations

import uuid

from shopcast.core.errors import Phrase
from shopcast.core.ratelimit import enforce
from shopcast.reminders import service as reminders
from shopcast.reminders.schemas import ReminderIn, ReminderOut
from shopcast.web import language
from shopcast.web.api import Api, Call

api = Api()
# Per client address: a viewer asks once or twice; more is someone typing other people's addresses.
REMINDERS_PER_WINDOW = 10
REMINDER_WINDOW_SECONDS = 600


@api.route(
    "POST",
    "/api/v1/public/episodes/{episode_id}/reminders",
    summary="Email me a reminder before this episode starts and when it goes live (with consent)",
    tag="public",
    response=ReminderOut,
    status=201,
    errors=(409, 429),
)
async def remind_me(call: Call, episode_id: uuid.UUID, body: ReminderIn) -> ReminderOut:
    await enforce(
        call.resources.limiter,
        f"reminders:{call.client}",
        limit=REMINDERS_PER_WINDOW,
        window_seconds=REMINDER_WINDOW_SECONDS,
        what=Phrase("errors.limit.reminders"),
    )
    # The page's language (its script sends it as Accept-Language): the consent's words and the emails are in it.
    return await reminders.subscribe(
        call.session, episode_id=episode_id, data=body, language=language.chosen(call.request), now=call.now()
    )
