"""Weekly recurrence: RRULEs expanded in the show's own time zone, so 19:00 stays 19:00 across DST.

Two wall-clock times a year are awkward, and we read them as RFC 5545 (section 3.3.5) reads a DTSTART,
which is also what calendar apps do when they expand the show's feed:
- a time the clocks skip (02:30 in Paris when they jump from 02:00 to 03:00) is read with the offset
  before the jump: the same moment as 02:30 winter time, shown as 03:30 summer time;
- a time that happens twice (02:30 when they go back from 03:00 to 02:00) is the first one, on summer time.
That is Python's `fold=0`; `to_utc` is the one place that turns a wall-clock time into a moment.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rrulestr

from shopcast.core.errors import InvalidInput, InvalidValue, Phrase

_ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYHOUR", "BYMINUTE", "COUNT", "UNTIL", "WKST"}

# What a schedule can mean (docs/api.md, "Dates a schedule accepts"). Nothing is planned further ahead than this: the
# calendar feed's time zone data and the episodes made ahead (SHOPCAST_SCHEDULE_WEEKS, at most 104)
# stay well inside it.
PLAN_AHEAD = timedelta(days=730)
# A series' first episode only anchors its rule (episodes are made from now on): a recent past is
# enough to say "it has been on every other Tuesday since March".
FIRST_EPISODE_BACK = timedelta(days=365)
MAX_INTERVAL = 52  # every N weeks: at least once a year
MAX_PER_WEEK = 28  # four a day, every day; more is a typo that would make thousands of episodes
_UNTIL = re.compile(r"(\d{8})(T\d{6})?")


def check_time_zone(name: str) -> str:
    """The IANA name if known (e.g. Europe/Paris), else InvalidValue."""
    if name not in _zone_names():
        raise InvalidValue("errors.schedule.unknown_zone", name=name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue("errors.schedule.unusable_zone", name=name) from exc
    return name


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def normalize_rule(text: str) -> str:
    """A weekly RRULE in canonical form (`FREQ=WEEKLY;BYDAY=TU`), else InvalidValue with the reason."""
    body = text.strip().upper().removeprefix("RRULE:")
    if not body:
        raise InvalidValue("errors.schedule.empty")
    parts: dict[str, str] = {}
    for chunk in body.split(";"):
        key, sep, value = chunk.partition("=")
        if not sep or not value:
            raise InvalidValue("errors.schedule.unreadable", chunk=chunk)
        if key not in _ALLOWED_PARTS:
            raise InvalidValue("errors.schedule.unsupported", part=key, parts=", ".join(sorted(_ALLOWED_PARTS)))
        parts[key] = value
    if parts.get("FREQ") != "WEEKLY":
        raise InvalidValue("errors.schedule.weekly")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidValue("errors.schedule.count_or_until")
    # INTERVAL=0 would never move past the first week (the expansion would not end).
    if "INTERVAL" in parts and not _whole(parts["INTERVAL"], 1, MAX_INTERVAL):
        raise InvalidValue("errors.schedule.interval", most=MAX_INTERVAL)
    if "COUNT" in parts and not _whole(parts["COUNT"], 1, None):
        raise InvalidValue("errors.schedule.count")
    if "UNTIL" in parts:
        parts["UNTIL"] = _until(parts["UNTIL"])
    rule = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError) as exc:
        raise InvalidValue("errors.schedule.invalid", error=str(exc)) from exc
    per_week = 1
    for key in ("BYDAY", "BYHOUR", "BYMINUTE"):
        per_week *= len(set(parts.get(key, "-").split(",")))
    if per_week > MAX_PER_WEEK:
        raise InvalidValue("errors.schedule.per_week", count=per_week, most=MAX_PER_WEEK)
    return rule


def _whole(value: str, low: int, high: int | None) -> bool:
    return value.isdigit() and low <= int(value) and (high is None or int(value) <= high)


def _until(value: str) -> str:
    """UNTIL as a wall-clock date-time in the show's zone; a date alone means through that day."""
    # A trailing Z is dropped: the series is planned in wall-clock time, so it ends in wall-clock time.
    found = _UNTIL.fullmatch(value.removesuffix("Z"))
    if found is None:
        raise InvalidValue("errors.schedule.until")
    day, time = found.groups()
    return f"{day}{time or 'T235959'}"


def rule_until(rule: str) -> datetime | None:
    """The wall-clock time a rule ends at, if it says (`UNTIL`), read as the rule's expansion reads it."""
    found = _UNTIL.fullmatch(_part(rule, "UNTIL"))
    if found is None:
        return None
    day, time = found.groups()
    return datetime.strptime(day + (time or "T000000"), "%Y%m%dT%H%M%S")


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


def nearest_slots(starts: list[datetime], free: list[datetime], *, within: timedelta) -> list[datetime | None]:
    """For each start, a slot of `free` at most `within` away, or None: a start that is a slot keeps it, the
    others (in order) take the nearest slot left."""
    left = set(free)
    found: list[datetime | None] = [start if start in left else None for start in starts]
    left -= set(found)
    for index, start in enumerate(starts):
        if found[index] is not None:
            continue
        near = [slot for slot in sorted(left) if abs(slot - start) <= within]
        best = min(near, key=lambda slot: abs(slot - start), default=None)
        if best is not None:
            left.remove(best)
            found[index] = best
    return found


# --- dates a schedule can mean: 422 naming the field and the limit ----------------------------


def check_first_episode(value: datetime, zone: str, *, now: datetime) -> None:
    earliest = now - FIRST_EPISODE_BACK
    too_early = Phrase("errors.schedule.too_early", earliest=f"{earliest:%Y-%m-%d}", days=FIRST_EPISODE_BACK.days)
    _planned(value, zone, "first_episode_at", now, earliest, too_early)


def check_episode_start(value: datetime, zone: str, *, now: datetime, moved: bool) -> datetime:
    """The moment a one-off or moved episode starts at, if it is to come and within the planning horizon."""
    too_early = Phrase("errors.schedule.move_to_future" if moved else "errors.schedule.start_in_future")
    return _planned(value, zone, "starts_at", now, now, too_early)


def check_rule_end(rule: str, zone: str, *, now: datetime) -> None:
    until = rule_until(rule)
    latest = now + PLAN_AHEAD
    if until is not None and until.replace(tzinfo=ZoneInfo(zone)) > latest:
        raise _refused("rrule", Phrase("errors.schedule.until_late", latest=f"{latest:%Y-%m-%d}", days=PLAN_AHEAD.days))


def check_distinct_moments(rule: str, first_local: datetime, zone: str, *, now: datetime) -> None:
    """Refuse a rule two of whose times are one moment on the night the clocks skip an hour.

    With BYHOUR=2,3;BYMINUTE=30 in Paris, the rule's 02:30 and 03:30 of 28 March 2027 are both
    01:30 UTC: one episode, but two events in every calendar app.
    """
    if all(len(_part(rule, key).split(",")) == 1 for key in ("BYHOUR", "BYMINUTE")):
        return  # one time a day: slots are a day apart
    seen: dict[datetime, datetime] = {}
    start, end = wall_clock(now, zone), wall_clock(now + PLAN_AHEAD, zone)
    for local in _series(rule, first_local).between(start, end, inc=True):
        other = seen.setdefault(to_utc(local, zone), local)
        if other != local:
            same = Phrase(
                "errors.schedule.same_moment",
                first=f"{other:%H:%M}",
                second=f"{local:%H:%M}",
                day=f"{local:%Y-%m-%d}",
                zone=zone,
            )
            raise _refused("rrule", same)


def _part(rule: str, key: str) -> str:
    for chunk in rule.split(";"):
        name, _, value = chunk.partition("=")
        if name == key:
            return value
    return ""


def _planned(value: datetime, zone: str, field: str, now: datetime, earliest: datetime, too_early: Phrase) -> datetime:
    latest = now + PLAN_AHEAD
    try:
        at = instant(value, zone)
    except OverflowError:  # a year like 1 or 9999 does not survive the zone's offset
        at = None
    if (at is None and value.year > now.year) or (at is not None and at > latest):
        raise _refused(field, Phrase("errors.schedule.too_far", latest=f"{latest:%Y-%m-%d}", days=PLAN_AHEAD.days))
    if at is None or at < earliest:
        raise _refused(field, too_early)
    return at


def _refused(field: str, reason: Phrase) -> InvalidInput:
    return InvalidInput(
        "errors.field.reason", field=field, reason=reason, extra={"errors": [{"field": field, "reason": reason}]}
    )
