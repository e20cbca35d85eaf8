"""The show's .ics feed imports as one weekly event in the show's time zone, with its exceptions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar

from shopcast.core.security import Role
from tests.factories import Factory, Staff
from tests.problems import refused

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def show(factory: Factory) -> dict[str, Any]:
    await factory.brand("acme", "Acme Paris")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager, first_episode_at="2026-10-13T19:00", duration_minutes=45)
    return {"manager": manager, **show}


async def feed(client, show: dict[str, Any]) -> Calendar:
    response = await client.get(show["calendar_path"])
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(await response.read())


def events(calendar: Calendar) -> list[Any]:
    return [c for c in calendar.walk("VEVENT")]


def expand(series: Any, until: datetime) -> list[datetime]:
    """What a calendar app does with DTSTART;TZID + RRULE (+ EXDATE)."""
    start = series.decoded("dtstart")
    rule = rrulestr(series["rrule"].to_ical().decode(), dtstart=start)
    excluded = set()
    for exdate in series.get("exdate", []) if isinstance(series.get("exdate"), list) else [series.get("exdate")]:
        if exdate is not None:
            excluded.update(d.dt for d in exdate.dts)
    return [d for d in rule.between(start - timedelta(seconds=1), until) if d not in excluded]


async def test_the_feed_is_one_weekly_event_at_19h_paris_across_dst(client, show) -> None:
    calendar = await feed(client, show)
    assert calendar["version"] == "2.0" and calendar["prodid"]
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    (series,) = events(calendar)
    assert series["summary"] == "Tuesday Night Live"
    assert series["uid"] and series["dtstamp"]
    assert series["dtstart"].params["TZID"] == "Europe/Paris"
    assert series["rrule"].to_ical() == b"FREQ=WEEKLY;BYDAY=TU"
    assert series.decoded("dtend") - series.decoded("dtstart") == timedelta(minutes=45)
    occurrences = expand(series, datetime(2026, 11, 10, tzinfo=PARIS))
    assert [(d.strftime("%m-%d %H:%M"), d.utcoffset()) for d in occurrences] == [
        ("10-13 19:00", timedelta(hours=2)),
        ("10-20 19:00", timedelta(hours=2)),
        ("10-27 19:00", timedelta(hours=1)),
        ("11-03 19:00", timedelta(hours=1)),
    ]
    raw = (await (await client.get(show["calendar_path"])).read()).decode()
    assert "DTSTART;TZID=Europe/Paris:20261013T190000" in raw
    assert "X-WR-CALNAME:Tuesday Night Live · Acme Paris" in raw


async def test_cancelled_moved_and_one_off_episodes_show_up_right(client, factory: Factory, show) -> None:
    manager: Staff = show["manager"]
    episodes = await factory.episodes(show["id"], manager)
    cancelled, moved = episodes[1], episodes[2]
    await client.post(f"/api/v1/episodes/{cancelled['id']}/cancel", headers=manager.headers)
    await client.patch(
        f"/api/v1/episodes/{moved['id']}", json={"starts_at": "2026-10-28T20:00"}, headers=manager.headers
    )
    one_off = await client.post(
        f"/api/v1/shows/{show['id']}/episodes",
        json={"starts_at": "2026-10-17T11:00", "title": "Saturday flash sale"},
        headers=manager.headers,
    )
    dropped = await client.post(
        f"/api/v1/shows/{show['id']}/episodes", json={"starts_at": "2026-10-24T11:00"}, headers=manager.headers
    )
    await client.post(f"/api/v1/episodes/{(await dropped.json())['id']}/cancel", headers=manager.headers)

    calendar = await feed(client, show)
    series = next(e for e in events(calendar) if "rrule" in e)
    assert [d.dt for d in series["exdate"].dts] == [datetime(2026, 10, 20, 19, 0, tzinfo=PARIS)]
    override = next(e for e in events(calendar) if "recurrence-id" in e)
    assert override["uid"] == series["uid"]
    assert override.decoded("recurrence-id") == datetime(2026, 10, 27, 19, 0, tzinfo=PARIS)
    assert override.decoded("dtstart") == datetime(2026, 10, 28, 20, 0, tzinfo=PARIS)
    standalone = [e for e in events(calendar) if "rrule" not in e and "recurrence-id" not in e]
    assert [(e["summary"], e.decoded("dtstart")) for e in standalone] == [
        ("Saturday flash sale", datetime(2026, 10, 17, 11, 0, tzinfo=PARIS))
    ]
    assert (await one_off.json())["is_one_off"]


async def test_the_feed_is_public_and_unknown_shows_are_404(client, show) -> None:
    assert (await client.get(show["calendar_path"])).status == 200
    response = await client.get("/api/v1/public/shows/6f1c3a8e-0000-4000-8000-000000000000/calendar.ics")
    await refused(response, 404, "no show 6f1c3a8e-0000-4000-8000-000000000000")


async def test_a_series_end_is_in_utc_and_the_feed_ends_where_the_episodes_do(client, factory: Factory, show) -> None:
    # UNTIL as a date means through that day; with a TZID start, RFC 5545 wants UNTIL in UTC.
    ending = await factory.show(
        "acme", show["manager"], first_episode_at="2026-10-13T19:00", rrule="FREQ=WEEKLY;BYDAY=TU;UNTIL=20261027"
    )
    assert ending["rrule"] == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261027T235959"
    episodes = await factory.episodes(ending["id"], show["manager"])
    assert [e["starts_at_local"] for e in episodes] == [
        "2026-10-13T19:00:00+02:00",
        "2026-10-20T19:00:00+02:00",
        "2026-10-27T19:00:00+01:00",
    ]
    calendar = await feed(client, ending)
    (series,) = events(calendar)
    assert series["rrule"].to_ical() == b"FREQ=WEEKLY;UNTIL=20261027T225959Z;BYDAY=TU"
    expanded = recurring_ical_events.of(calendar).between(datetime(2026, 10, 1), datetime(2027, 1, 1))
    assert [e.decoded("dtstart") for e in expanded] == [datetime.fromisoformat(e["starts_at_local"]) for e in episodes]


async def test_one_episode_adds_to_a_calendar_with_the_link_to_watch_it(client, factory: Factory, show) -> None:
    manager = show["manager"]
    first, second = (await factory.episodes(show["id"], manager))[:2]
    response = await client.get(f"/api/v1/public/episodes/{first['id']}/calendar.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="episode-{first["id"]}.ics"'
    calendar = Calendar.from_ical(await response.read())
    (event,) = events(calendar)
    watch = str(client.make_url(f"/watch/{first['id']}"))
    assert event["summary"] == "Tuesday Night Live · Acme Paris"
    assert event["url"] == watch and watch in event["description"]
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert event.decoded("dtstart") == datetime(2026, 10, 13, 19, 0, tzinfo=PARIS)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=45)
    assert "status" not in event
    # Read by a calendar app: one occurrence, at 19:00 Paris time.
    found = recurring_ical_events.of(calendar).between(datetime(2026, 10, 1), datetime(2026, 11, 1))
    assert [e.decoded("dtstart") for e in found] == [datetime(2026, 10, 13, 19, 0, tzinfo=PARIS)]

    await client.post(f"/api/v1/episodes/{second['id']}/cancel", headers=manager.headers)
    cancelled = Calendar.from_ical(
        await (await client.get(f"/api/v1/public/episodes/{second['id']}/calendar.ics")).read()
    )
    assert events(cancelled)[0]["status"] == "CANCELLED"
    missing = await client.get("/api/v1/public/episodes/6b1f2a77-0c56-4d1e-9a63-2f4b8c1d0e9f/calendar.ics")
    await refused(missing, 404, "no episode")
