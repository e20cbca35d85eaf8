from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from shopcast.chat.text import REACTIONS, clean

AuthorRole = Literal["host", "moderator", "manager", "viewer"]
Reaction = Literal[REACTIONS]  # type: ignore[valid-type]
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# Control characters (a NUL byte, which PostgreSQL refuses to store) are dropped from what moderators type.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(clean)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), AfterValidator(clean)]
Domain = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=253)]


class AuthorOut(BaseModel):
    ref: str = Field(description="An opaque id of the author, stable within the brand (not the account id).")
    name: str
    role: AuthorRole


class QuotedMessage(BaseModel):
    id: uuid.UUID
    author_name: str
    text: str = Field(description="The first 140 characters of the message replied to.")


class MessageOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    text: str = Field(description="Plain text: show it as text, never as HTML.")
    author: AuthorOut
    reply_to: QuotedMessage | None
    question: bool
    answered: bool
    at: datetime


class ChatRulesIn(BaseModel):
    banned_words: list[Word] = Field(default_factory=list, max_length=500)
    banned_words_action: Literal["mask", "reject"] = Field(
        "mask", description="`mask` replaces a banned word with asterisks; `reject` refuses the message (422)."
    )
    allow_links: bool = Field(False, description="Whether viewers may post links (staff always may).")
    allowed_link_domains: list[Domain] = Field(
        default_factory=list, max_length=100, description="Domains viewers may link to even when links are off."
    )


class ChatRulesOut(ChatRulesIn):
    brand_id: uuid.UUID


class RestrictionOut(BaseModel):
    id: uuid.UUID
    viewer_ref: str
    viewer_name: str
    viewer_kind: Literal["user", "guest"]
    kind: Literal["ban", "timeout", "shadow_ban"]
    until: datetime | None
    reason: str
    created_at: datetime


class ModerationEntryOut(BaseModel):
    id: uuid.UUID
    action: str
    actor_name: str
    message_id: uuid.UUID | None
    message_text: str | None = Field(description="The message as it was when the action was taken.")
    viewer_name: str | None
    detail: str
    at: datetime


class AudienceOut(BaseModel):
    viewers_now: int = Field(
        description="Viewers watching now, as the player and the studio show them: distinct accounts and guests"
        " (and connections without a token), the brand's staff not counted, across every app process."
    )
    unique_viewers: int = Field(description="Distinct viewers (accounts or guests) who joined the room.")
    watch_seconds: int = Field(description="Time spent in the room by all viewers together.")
    average_watch_seconds: int


class YouOut(BaseModel):
    ref: str
    role: AuthorRole
    timed_out_until: datetime | None


class ReplayBeatIn(BaseModel):
    """A replay viewer's player, still playing (docs/api.md, "Replay viewers")."""

    resumed: bool = Field(
        False,
        description="The recording did not play since this viewer's last beat (it was paused, or the page just "
        "opened): the time since then is not counted, a new stretch of watching starts now.",
    )


class ReplayBeatOut(BaseModel):
    counting: bool = Field(
        description="Whether this viewer's watching is still counted: false once their replay time reached the "
        "recording's length (nothing more is added)."
    )
    watched_seconds: int = Field(description="This viewer's replay watch time so far, all their sessions together.")
    beat_seconds: int = Field(description="Beat again this many seconds from now while the recording plays.")


class ReplayCardViewIn(BaseModel):
    pin_id: uuid.UUID = Field(description="The pin whose product card the replay showed over the video.")
