"""The iCalendar feed of a show: one weekly series, so calendars show a real recurring event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode, Show
from shopcast.live.schedule import occurs_at, to_local


def _uid(kind: str, ident: object) -> str:
    return f"{kind}-{ident}@shopcast"


def _event(uid: str, title: str, description: str, start: datetime, minutes: int, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", title)
    if description:
        event.add("description", description)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    return event


def build_calendar(show: Show, brand_name: str, episodes: Iterable[Episode], *, now: datetime) -> bytes:
    """The show as RRULE series with its exceptions: cancelled slots excluded, moved ones overridden."""
    zone = show.time_zone
    calendar = Calendar()
    calendar.add("prodid", "-//Shopcast//Live shopping//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{show.title} · {brand_name}")
    calendar.add("x-wr-timezone", zone)
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})

    first = show.first_episode_local
    # DTSTART carries the show's TZID, so calendars keep 19:00 local across DST changes.
    series_start = first.replace(tzinfo=ZoneInfo(zone))
    series = _event(_uid("show", show.id), show.title, show.description, series_start, show.duration_minutes, now)
    series.add("rrule", vRecur.from_ical(show.rrule))
    calendar.add_component(series)

    for episode in sorted(episodes, key=lambda e: e.starts_at):
        title = episode.title or show.title
        start = to_local(episode.starts_at, zone)
        if episode.occurrence_at is None:
            if episode.status != EpisodeStatus.CANCELLED:
                calendar.add_component(
                    _event(_uid("episode", episode.id), title, show.description, start, episode.duration_minutes, now)
                )
            continue
        slot = to_local(episode.occurrence_at, zone)
        in_series = occurs_at(show.rrule, first, slot.replace(tzinfo=None))
        if episode.status == EpisodeStatus.CANCELLED:
            if in_series:
                series.add("exdate", slot)
            continue
        changed = (
            episode.starts_at != episode.occurrence_at
            or episode.duration_minutes != show.duration_minutes
            or episode.title is not None
        )
        if not changed and in_series:
            continue
        if in_series:
            override = _event(_uid("show", show.id), title, show.description, start, episode.duration_minutes, now)
            override.add("recurrence-id", slot)
        else:
            # A slot of an earlier schedule that was kept (moved): its own event.
            override = _event(
                _uid("episode", episode.id), title, show.description, start, episode.duration_minutes, now
            )
        calendar.add_component(override)

    calendar.add_missing_timezones()
    return calendar.to_ical()
