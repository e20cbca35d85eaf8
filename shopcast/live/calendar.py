"""The iCalendar feed of a show: one weekly series, so calendars show a real recurring event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode, Show
from shopcast.live.schedule import rule_until, slots, to_local, to_utc


def _uid(kind: str, ident: object) -> str:
    return f"{kind}-{ident}@shopcast"


def _written(at: datetime, zone: str) -> datetime:
    """A moment as the feed writes it: in the show's zone when its wall-clock time names it, else in UTC.

    A TZID time that happens twice means the first (RFC 5545 section 3.3.5), so the second 02:30 of a
    night the clocks go back can only be written in UTC.
    """
    local = to_local(at, zone)
    return local if to_utc(local.replace(tzinfo=None), zone) == at else at


def _event(uid: str, title: str, description: str, start: datetime, end: datetime, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", title)
    if description:
        event.add("description", description)
    event.add("dtstart", start)
    event.add("dtend", end)
    return event


def _episode_event(uid: str, title: str, description: str, episode: Episode, zone: str, stamp: datetime) -> Event:
    # The end from the moment the episode starts: wall-clock arithmetic is an hour out across a DST change.
    ends_at = episode.starts_at + timedelta(minutes=episode.duration_minutes)
    start, end = _written(episode.starts_at, zone), _written(ends_at, zone)
    return _event(uid, title, description, start, end, stamp)


def build_calendar(show: Show, brand_name: str, episodes: Iterable[Episode], *, now: datetime) -> bytes:
    """The show as RRULE series with its exceptions: cancelled slots excluded, moved ones overridden."""
    zone = show.time_zone
    calendar = Calendar()
    calendar.add("prodid", "-//Shopcast//Live shopping//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{show.title} · {brand_name}")
    # No X-WR-TIMEZONE: every time here has a TZID or is UTC, and readers that honour X-WR-TIMEZONE
    # rewrite UTC times into it as wall-clock times, turning the second 02:30 of a night into the first.
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})

    first = show.first_episode_local
    # DTSTART is the rule's own wall-clock time with the show's TZID, so calendars keep 19:00 local
    # across DST changes and read an awkward 02:30 the way the episode list does (see schedule.py).
    series_start = first.replace(tzinfo=ZoneInfo(zone))
    series_end = _written(to_utc(first, zone) + timedelta(minutes=show.duration_minutes), zone)
    series = _event(_uid("show", show.id), show.title, show.description, series_start, series_end, now)
    rule = vRecur.from_ical(show.rrule)
    until = rule_until(show.rrule)
    if until is not None:
        # RFC 5545 section 3.3.10: with a TZID start, UNTIL is in UTC (the moment our wall-clock end names).
        rule["UNTIL"] = [to_utc(until, zone)]
    series.add("rrule", rule)
    calendar.add_component(series)

    episodes = sorted(episodes, key=lambda e: e.starts_at)
    taken = [e.occurrence_at for e in episodes if e.occurrence_at is not None]
    # The rule's wall-clock time of each slot an episode came from: exceptions must name the slot as
    # the series spells it (02:30 on a spring-forward night), not as the clock shows it (03:30).
    series_slots = slots(show.rrule, first, zone, min(taken), max(taken) + timedelta(minutes=1)) if taken else {}
    for episode in episodes:
        title = episode.title or show.title
        if episode.occurrence_at is None:
            if episode.status != EpisodeStatus.CANCELLED:
                calendar.add_component(
                    _episode_event(_uid("episode", episode.id), title, show.description, episode, zone, now)
                )
            continue
        slot = series_slots.get(episode.occurrence_at)
        if episode.status == EpisodeStatus.CANCELLED:
            if slot is not None:
                series.add("exdate", slot.replace(tzinfo=ZoneInfo(zone)))
            continue
        changed = (
            episode.starts_at != episode.occurrence_at
            or episode.duration_minutes != show.duration_minutes
            or episode.title is not None
        )
        if not changed and slot is not None:
            continue
        if slot is not None:
            override = _episode_event(_uid("show", show.id), title, show.description, episode, zone, now)
            override.add("recurrence-id", slot.replace(tzinfo=ZoneInfo(zone)))
        else:
            # A slot of an earlier schedule that was kept (moved): its own event.
            override = _episode_event(_uid("episode", episode.id), title, show.description, episode, zone, now)
        calendar.add_component(override)

    calendar.add_missing_timezones()
    return calendar.to_ical()


def build_episode_calendar(show: Show, brand_name: str, episode: Episode, *, now: datetime, watch_url: str) -> bytes:
    """One episode as a calendar file ("add to my calendar" on its page), with the link to watch it.
    Its own UID: it is a single event, not the feed's series (a person may have both)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Shopcast//Live shopping//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    description = "\n\n".join(part for part in (show.description, watch_url) if part)
    title = f"{episode.title or show.title} · {brand_name}"
    event = _episode_event(_uid("episode", episode.id), title, description, episode, show.time_zone, now)
    event.add("url", watch_url)
    if episode.status == EpisodeStatus.CANCELLED:
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
