"""Weekly recurrence: RRULEs expanded in the show's own time zone, so 19:00 stays 19:00 across DST.

Two wall-clock times a year are awkward, and we read them as RFC 5545 (section 3.3.5) reads a DTSTART,
which is also what calendar apps do when they expand the show's feed:
- a time the clocks skip (02:30 in Paris when they jump from 02:00 to 03:00) is read with the offset
  before the jump: the same moment as 02:30 winter time, shown as 03:30 summer time;
- a time that happens twice (02:30 when they go back from 03:00 to 02:00) is the first one, on summer time.
That is Python's `fold=0`; `to_utc` is the one place that turns a wall-clock time into a moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rrulestr

_ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYHOUR", "BYMINUTE", "COUNT", "UNTIL", "WKST"}


def check_time_zone(name: str) -> str:
    """The IANA name if known (e.g. Europe/Paris), else ValueError."""
    if name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def normalize_rule(text: str) -> str:
    """A weekly RRULE in canonical form (`FREQ=WEEKLY;BYDAY=TU`), else ValueError with the reason."""
    body = text.strip().upper().removeprefix("RRULE:")
    if not body:
        raise ValueError("the recurrence is empty: use e.g. FREQ=WEEKLY;BYDAY=TU")
    parts: dict[str, str] = {}
    for chunk in body.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep or not value:
            raise ValueError(f"cannot read {chunk!r}: parts are NAME=VALUE separated by ';'")
        if key not in _ALLOWED_PARTS:
            raise ValueError(f"{key} is not supported; use {', '.join(sorted(_ALLOWED_PARTS))}")
        parts[key] = value
    if parts.get("FREQ") != "WEEKLY":
        raise ValueError("a show repeats weekly: the rule needs FREQ=WEEKLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("use COUNT or UNTIL, not both")
    if "UNTIL" in parts and parts["UNTIL"].endswith("Z"):
        # Floating wall-clock series end in wall-clock time too.
        parts["UNTIL"] = parts["UNTIL"][:-1]
    rule = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a valid recurrence rule: {exc}") from exc
    return rule


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def with_weekday(rule: str, first_local: datetime) -> str:
    """The rule naming its day (`BYDAY=TU`) when it only said `FREQ=WEEKLY`, so feeds and people can read it."""
    if "BYDAY=" in rule:
        return rule
    return f"{rule};BYDAY={_WEEKDAYS[first_local.weekday()]}"


def _series(rule: str, first_local: datetime) -> rrule:
    return rrulestr(rule, dtstart=first_local)  # type: ignore[return-value]


def first_occurrence(rule: str, first_local: datetime) -> datetime | None:
    """The first wall-clock time the rule really produces on or after `first_local`."""
    return _series(rule, first_local).after(first_local, inc=True)


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time in `zone` as a UTC moment: a skipped time moves forward, a doubled one is the first."""
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


def instant(value: datetime, zone: str) -> datetime:
    """The moment a client meant, to the minute: with an offset as given, without one as wall-clock time in `zone`."""
    if value.tzinfo is None:
        return to_utc(value.replace(second=0, microsecond=0), zone)
    # Not through the wall clock: the second 02:30 of a night the clocks go back must stay the second.
    return value.astimezone(UTC).replace(second=0, microsecond=0)


def to_local(at: datetime, zone: str) -> datetime:
    """An aware datetime as an aware datetime in `zone`."""
    return at.astimezone(ZoneInfo(zone))


def wall_clock(value: datetime, zone: str) -> datetime:
    """A naive wall-clock time in `zone`; naive input is taken to be in `zone` already."""
    if value.tzinfo is None:
        return value.replace(second=0, microsecond=0, fold=0)
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0, fold=0)


def slots(rule: str, first_local: datetime, zone: str, start: datetime, end: datetime) -> dict[datetime, datetime]:
    """The series' slots starting in [start, end), by UTC start: the wall-clock time the rule gave each one.

    The feed needs the rule's own wall-clock time to name a slot (EXDATE, RECURRENCE-ID): on a
    spring-forward night the episode at 01:30 UTC is the rule's 02:30, which the clock never shows.
    """
    margin = timedelta(days=1)
    low = wall_clock(start, zone) - margin
    high = wall_clock(end, zone) + margin
    found: dict[datetime, datetime] = {}
    for local in _series(rule, first_local).between(low, high, inc=True):
        at = to_utc(local, zone)
        if start <= at < end:
            found.setdefault(at, local)
    return found


def occurrences(rule: str, first_local: datetime, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """UTC start times of the series in [start, end), each computed from its wall-clock time."""
    # Sorted: across a skipped hour the rule's 02:30 (01:30 UTC) comes before its 03:00 (01:00 UTC).
    return sorted(slots(rule, first_local, zone, start, end))
