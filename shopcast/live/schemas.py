from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from shopcast.core.errors import InvalidValue
from shopcast.core.times import Instant, WallClock
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.schedule import check_time_zone, normalize_rule


def _web_address(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(("https://", "http://")):
        raise InvalidValue("errors.field.web_address")
    return value


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
ImageUrl = Annotated[
    str | None, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_web_address)
]
TimeZone = Annotated[str, AfterValidator(check_time_zone)]
Rule = Annotated[str, StringConstraints(max_length=500), AfterValidator(normalize_rule)]
Minutes = Annotated[int, Field(ge=5, le=720)]


FIRST_EPISODE = (
    "The first episode's wall-clock start in the show's time zone, e.g. 2026-10-06T19:00. With an offset, it is "
    "converted to the show's time zone. At most 365 days back and 730 days ahead."
)
RULE = (
    "Weekly recurrence (RFC 5545 RRULE), e.g. FREQ=WEEKLY;BYDAY=TU. INTERVAL 1-52, at most 28 episodes a week, "
    "UNTIL a date or wall-clock date-time at most 730 days ahead."
)
EPISODE_START = "With an offset, or wall-clock time in the show's time zone. In the future, at most 730 days ahead."


class ShowCreate(BaseModel):
    title: Title
    description: Description = ""
    cover_image_url: ImageUrl = None
    time_zone: TimeZone = Field(description="IANA time zone the show is planned in, e.g. Europe/Paris.")
    first_episode_at: WallClock = Field(description=FIRST_EPISODE)
    rrule: Rule = Field("FREQ=WEEKLY", description=RULE)
    duration_minutes: Minutes = 60
    default_host_id: uuid.UUID | None = Field(None, description="A host or manager of the brand.")


class ShowUpdate(BaseModel):
    """Only the fields sent change; on a new schedule, coming episodes nobody moved take its slots."""

    title: Title | None = None
    description: Description | None = None
    cover_image_url: ImageUrl = None
    time_zone: TimeZone | None = None
    first_episode_at: WallClock | None = Field(None, description=FIRST_EPISODE)
    rrule: Rule | None = Field(None, description=RULE)
    duration_minutes: Minutes | None = None
    default_host_id: uuid.UUID | None = None


class ShowOut(BaseModel):
    id: uuid.UUID
    brand_id: uuid.UUID
    title: str
    description: str
    cover_image_url: str | None
    time_zone: str
    first_episode_at: Instant = Field(
        description="The first episode's start: its wall-clock time in the show's time zone, with that zone's offset."
    )
    rrule: str
    duration_minutes: int
    default_host_id: uuid.UUID | None
    calendar_path: str = Field(description="Path of the show's public iCalendar feed.")


class PublicShowOut(BaseModel):
    id: uuid.UUID
    brand_slug: str
    brand_name: str
    title: str
    description: str
    cover_image_url: str | None
    time_zone: str
    rrule: str
    duration_minutes: int
    calendar_path: str


class EpisodeCreate(BaseModel):
    """A one-off episode of a show, outside its weekly slot."""

    starts_at: WallClock = Field(description=EPISODE_START)
    duration_minutes: Minutes | None = None
    title: Title | None = None
    host_id: uuid.UUID | None = None


class EpisodeUpdate(BaseModel):
    """Move or change one episode without touching the others."""

    starts_at: WallClock | None = Field(None, description=EPISODE_START)
    duration_minutes: Minutes | None = None
    title: Title | None = None
    host_id: uuid.UUID | None = None

    @field_validator("title", mode="before")
    @classmethod
    def _empty_title_clears(cls, value: object) -> object:
        return None if value == "" else value


class EpisodeOut(BaseModel):
    id: uuid.UUID
    show_id: uuid.UUID
    show_title: str
    title: str = Field(description="The episode's own title, or the show's.")
    starts_at: Instant = Field(description="UTC.")
    ends_at: Instant = Field(description="UTC.")
    starts_at_local: Instant = Field(description="The start with the show's offset at that date.")
    time_zone: str
    duration_minutes: int
    status: EpisodeStatus
    host_id: uuid.UUID | None
    host_name: str | None
    is_one_off: bool
    is_moved: bool = Field(description="Moved away from its weekly slot.")
    went_live_at: Instant | None = Field(
        None, description="UTC: when the live started (the studio's clock counts from it)."
    )
    ended_at: Instant | None = Field(None, description="UTC: when the live ended.")


class EpisodePreview(BaseModel):
    """What a link to an episode's watch page shows before it is opened: link previews, search engines."""

    episode: EpisodeOut
    show_description: str
    cover_image_url: str | None = Field(description="The show's picture, if it has one.")
    previous_starts_at: Instant | None = Field(description="UTC: the weekly slot it was moved from, if moved.")
    brand_name: str
    brand_language: str = Field(description="The brand's pages' default language.")


class BroadcastOut(BaseModel):
    """The video side of an episode, as the studio shows it."""

    on_air: bool = Field(
        description="An app process carries the episode's broadcast: the host's connection came up there and "
        "the process still holds it (false while the first connection is still being made)."
    )
    publisher_connected: bool = Field(description="The host's connection is up (false during a reconnect).")
    viewers: int = Field(
        description="WebRTC (WHEP) video connections to every app process (not those still connecting; another"
        " process's as it last reported them, at most a second or two ago): the relay's figure; the audience is"
        " /audience's viewers_now."
    )


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class WebRtcConfigOut(BaseModel):
    """What a browser needs before its WHIP or WHEP offer."""

    ice_servers: list[IceServerOut] = Field(
        description="Pass as RTCPeerConnection's iceServers. Empty: no STUN/TURN (the server announces a "
        "reachable address itself)."
    )
