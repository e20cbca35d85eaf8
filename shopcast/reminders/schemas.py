"""What a viewer sends to be reminded of an episode, and what they are told back."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, EmailStr, Field, StrictBool, field_validator

from shopcast.core.errors import InvalidValue
from shopcast.core.times import Instant


class ReminderIn(BaseModel):
    email: EmailStr = Field(description="Where the reminder goes (checked as an address, not looked up).")
    consent: StrictBool = Field(
        description="The viewer ticked the consent box: `true`, or the request is refused (422)."
    )
    consent_text: str | None = Field(
        None,
        max_length=1000,
        description="The consent's words as the page showed them; if sent, they must be the catalogue's "
        "`reminders.consent` in the request's language (422 otherwise: the page is out of date).",
    )

    @field_validator("consent")
    @classmethod
    def _given(cls, value: bool) -> bool:
        if not value:
            raise InvalidValue("errors.field.consent")
        return value


class ReminderOut(BaseModel):
    episode_id: uuid.UUID
    email: str = Field(description="The address, as kept (lower case).")
    language: str = Field(description="The language of the consent and of the emails.")
    remind_at: Instant = Field(
        description="About when the reminder goes: the brand's `reminder_lead_minutes` before the start (now, if "
        "that is past); again if the episode is moved."
    )
    starts_at: Instant
    consent_at: Instant = Field(description="When the consent was given (the first time, for a repeat).")
