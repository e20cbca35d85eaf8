"""The feed read as calendar apps read it, over a year with both DST changes: it matches the episode list.

A weekly show at 02:30 Paris time meets both awkward nights: on 28 March 2027 02:30 does not exist
(clocks jump 02:00 -> 03:00) and on 25 October 2026 it happens twice (03:00 -> 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import recurring_ical_events
from icalendar import Calendar

from shopcast.core.security import Role
from shopcast.core.settings import Settings
from tests.conftest import DEFAULT_NOW, make_settings
from tests.factories import Factory, Staff

WEEKS = 53  # from 20 September 2026: past both changes, to late September 2027
HORIZON = DEFAULT_NOW + timedelta(weeks=WEEKS)


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, schedule_weeks=WEEKS, **backend)


@pytest.fixture
async def night_owl(factory: Factory) -> dict[str, Any]:
    await factory.brand("acme", "Acme Paris")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show(
        "acme", manager, title="Night Owl", first_episode_at="2026-09-27T02:30", rrule="FREQ=WEEKLY;BYDAY=SU"
    )
    return {"manager": manager, "show": show}


async def calendar_app_view(client, show: dict[str, Any]) -> list[tuple[datetime, str]]:
    """What a calendar app shows for the coming year: each event's start (UTC) and title."""
    response = await client.get(show["calendar_path"])
    assert response.status == 200
    calendar = Calendar.from_ical(await response.read())
    events = recurring_ical_events.of(calendar).between(DEFAULT_NOW, HORIZON)
    seen = [(e.decoded("dtstart").astimezone(UTC), str(e["summary"])) for e in events]
    return sorted(at for at in seen if DEFAULT_NOW <= at[0] < HORIZON)


def listed(episodes: list[dict[str, Any]]) -> list[tuple[datetime, str]]:
    """The episode list as a viewer would expect to find it in a calendar."""
    return sorted((datetime.fromisoformat(e["starts_at"]), e["title"]) for e in episodes if e["status"] != "cancelled")


def on(episodes: list[dict[str, Any]], day: str) -> dict[str, Any]:
    (episode,) = [e for e in episodes if e["starts_at_local"].startswith(day)]
    return episode


async def test_every_episode_is_in_the_feed_exactly_once_across_both_dst_nights(
    client, factory: Factory, night_owl
) -> None:
    episodes = await factory.episodes(night_owl["show"]["id"], night_owl["manager"])
    assert len(episodes) == WEEKS
    # Spring forward: 02:30 does not exist, so the episode is at 03:30 summer time (RFC 5545 section 3.3.5:
    # read with the offset before the gap), the same moment as 02:30 winter time.
    assert on(episodes, "2027-03-28")["starts_at"] == "2027-03-28T01:30:00Z"
    assert on(episodes, "2027-03-28")["starts_at_local"] == "2027-03-28T03:30:00+02:00"
    # Fall back: 02:30 happens twice; the episode is at the first, still on summer time.
    assert on(episodes, "2026-10-25")["starts_at_local"] == "2026-10-25T02:30:00+02:00"
    assert on(episodes, "2026-11-01")["starts_at_local"] == "2026-11-01T02:30:00+01:00"

    assert await calendar_app_view(client, night_owl["show"]) == listed(episodes)


async def test_cancelled_and_moved_episodes_on_dst_nights_show_up_right(client, factory: Factory, night_owl) -> None:
    manager: Staff = night_owl["manager"]
    show_id = night_owl["show"]["id"]
    episodes = await factory.episodes(show_id, manager)
    spring, fall, later = on(episodes, "2027-03-28"), on(episodes, "2026-10-25"), on(episodes, "2027-05-02")

    cancelled = await client.post(f"/api/v1/episodes/{spring['id']}/cancel", headers=manager.headers)
    assert cancelled.status == 200
    moved = await client.patch(
        f"/api/v1/episodes/{fall['id']}", json={"starts_at": "2026-10-25T20:00"}, headers=manager.headers
    )
    assert (await moved.json())["starts_at"] == "2026-10-25T19:00:00Z"
    # Moved into the hour that does not exist: shifted forward like the series' own slots.
    into_gap = await client.patch(
        f"/api/v1/episodes/{later['id']}", json={"starts_at": "2027-03-28T02:45"}, headers=manager.headers
    )
    assert (await into_gap.json())["starts_at_local"] == "2027-03-28T03:45:00+02:00"
    # The second 02:30 of the night the clocks go back, given with its winter offset.
    one_off = await client.post(
        f"/api/v1/shows/{show_id}/episodes",
        json={"starts_at": "2026-10-25T02:30:00+01:00", "title": "Second 02:30"},
        headers=manager.headers,
    )
    assert (await one_off.json())["starts_at"] == "2026-10-25T01:30:00Z"
    # Across the change: 90 minutes from 01:45 summer time end at the second 02:15.
    overnight = await client.post(
        f"/api/v1/shows/{show_id}/episodes",
        json={"starts_at": "2026-10-25T01:45", "duration_minutes": 90, "title": "Overnight"},
        headers=manager.headers,
    )
    assert (await overnight.json())["ends_at"] == "2026-10-25T01:15:00Z"

    after = await factory.episodes(show_id, manager)
    seen = await calendar_app_view(client, night_owl["show"])
    assert seen == listed(after)
    starts = [at for at, _ in seen]
    assert datetime(2027, 3, 28, 1, 30, tzinfo=UTC) not in starts
    assert datetime(2026, 10, 25, 0, 30, tzinfo=UTC) not in starts
    assert datetime(2027, 5, 2, 0, 30, tzinfo=UTC) not in starts
    raw = (await (await client.get(night_owl["show"]["calendar_path"])).read()).decode()
    (event,) = [e for e in Calendar.from_ical(raw).walk("VEVENT") if e["summary"] == "Overnight"]
    assert event.decoded("dtend").astimezone(UTC) - event.decoded("dtstart").astimezone(UTC) == timedelta(minutes=90)
    # Exceptions name the slot as the series spells it, so apps that compare text match too.
    assert "EXDATE;TZID=Europe/Paris:20270328T023000" in raw
    assert "RECURRENCE-ID;TZID=Europe/Paris:20261025T023000" in raw
    assert "RECURRENCE-ID;TZID=Europe/Paris:20270502T023000" in raw
