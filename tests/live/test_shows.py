"""Planning weekly shows: episodes generated in the show's time zone, schedule changes, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from shopcast.core.security import Role
from tests.factories import Factory, Staff
from tests.problems import refused


@pytest.fixture
async def manager(factory: Factory) -> Staff:
    await factory.brand("acme")
    return await factory.staff("acme", Role.MANAGER)


def local_times(episodes: list[dict[str, Any]]) -> list[str]:
    return [e["starts_at_local"] for e in episodes]


async def test_weekly_show_keeps_19h_paris_across_the_october_dst_change(factory: Factory, manager: Staff) -> None:
    show = await factory.show("acme", manager, first_episode_at="2026-10-13T19:00", rrule="FREQ=WEEKLY;BYDAY=TU")
    episodes = await factory.episodes(show["id"], manager)
    # The clock is at 2026-09-20; 8 weeks ahead reaches mid-November. Clocks go back on 25 October.
    assert local_times(episodes)[:4] == [
        "2026-10-13T19:00:00+02:00",
        "2026-10-20T19:00:00+02:00",
        "2026-10-27T19:00:00+01:00",
        "2026-11-03T19:00:00+01:00",
    ]
    assert [e["starts_at"] for e in episodes[1:3]] == ["2026-10-20T17:00:00Z", "2026-10-27T18:00:00Z"]
    assert all(e["status"] == "scheduled" and not e["is_one_off"] for e in episodes)


async def test_episodes_are_generated_for_the_coming_weeks_only(factory: Factory, manager: Staff, clock) -> None:
    show = await factory.show("acme", manager, first_episode_at="2026-09-01T19:00")
    episodes = await factory.episodes(show["id"], manager)
    # Past slots (1, 8, 15 September) are not created; 8 weeks from 20 September.
    assert local_times(episodes)[0] == "2026-09-22T19:00:00+02:00"
    assert len(episodes) == 8
    clock.advance(weeks=4)
    manager = await factory.sign_in(manager.email, manager.id)  # the old sign-in has expired
    later = await factory.episodes(show["id"], manager)
    assert local_times(later)[0] == "2026-10-20T19:00:00+02:00"
    assert local_times(later)[-1] == "2026-12-08T19:00:00+01:00"


async def test_every_other_week_and_two_days_a_week(factory: Factory, manager: Staff) -> None:
    biweekly = await factory.show("acme", manager, rrule="FREQ=WEEKLY;INTERVAL=2", first_episode_at="2026-09-24T18:30")
    assert local_times(await factory.episodes(biweekly["id"], manager))[:2] == [
        "2026-09-24T18:30:00+02:00",
        "2026-10-08T18:30:00+02:00",
    ]
    twice = await factory.show("acme", manager, rrule="FREQ=WEEKLY;BYDAY=TU,TH", first_episode_at="2026-09-22T12:00")
    assert local_times(await factory.episodes(twice["id"], manager))[:3] == [
        "2026-09-22T12:00:00+02:00",
        "2026-09-24T12:00:00+02:00",
        "2026-09-29T12:00:00+02:00",
    ]


async def test_two_times_a_night_are_fine_where_the_clocks_never_skip(factory: Factory, manager: Staff) -> None:
    rule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2,3;BYMINUTE=30"
    show = await factory.show("acme", manager, time_zone="Asia/Tokyo", rrule=rule, first_episode_at="2026-09-27T02:30")
    assert local_times(await factory.episodes(show["id"], manager))[:3] == [
        "2026-09-27T02:30:00+09:00",
        "2026-09-27T03:30:00+09:00",
        "2026-10-04T02:30:00+09:00",
    ]


async def test_a_first_date_off_the_rule_starts_at_the_rules_first_slot(factory: Factory, manager: Staff) -> None:
    # Asked to start on a Monday, for a Tuesday show: the first episode is that Tuesday.
    show = await factory.show("acme", manager, first_episode_at="2026-09-28T19:00", rrule="FREQ=WEEKLY;BYDAY=TU")
    assert show["first_episode_at"] == "2026-09-29T19:00:00+02:00"


async def test_a_start_given_with_an_offset_is_converted_to_the_show_zone(factory: Factory, manager: Staff) -> None:
    show = await factory.show("acme", manager, first_episode_at="2026-09-22T17:00:00Z", rrule="FREQ=WEEKLY")
    assert show["first_episode_at"] == "2026-09-22T19:00:00+02:00"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"rrule": "FREQ=DAILY"}, "FREQ=WEEKLY"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "not a valid recurrence"),
        ({"rrule": "FREQ=WEEKLY;BYSETPOS=1"}, "BYSETPOS is not supported"),
        ({"rrule": "FREQ=WEEKLY;UNTIL=20260101"}, "produces no episode"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10_000}, "duration_minutes"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 200}, "title"),
        ({"cover_image_url": "javascript:alert(1)"}, "http(s)://"),
        ({"first_episode_at": "next tuesday"}, "first_episode_at"),
        # The clock is at 2026-09-20: a first episode at most a year back, nothing more than two years ahead.
        ({"first_episode_at": "1550-03-03T19:00"}, "first_episode_at: must be no earlier than 2025-09-20"),
        ({"first_episode_at": "2025-09-16T19:00"}, "first_episode_at: must be no earlier than 2025-09-20"),
        ({"first_episode_at": "2028-09-26T19:00"}, "first_episode_at: must be no later than 2028-09-19"),
        ({"first_episode_at": "9999-12-31T23:00:00-12:00"}, "first_episode_at: must be no later than 2028-09-19"),
        ({"first_episode_at": "0001-01-01T00:00:00+14:00"}, "first_episode_at: must be no earlier than 2025-09-20"),
        ({"rrule": "FREQ=WEEKLY;UNTIL=20300101"}, "UNTIL must be no later than 2028-09-19"),
        ({"rrule": "FREQ=WEEKLY;UNTIL=2027-01-01"}, "UNTIL is a date (20271231) or a date and time"),
        ({"rrule": "FREQ=WEEKLY;INTERVAL=0"}, "INTERVAL is a number of weeks from 1 to 52"),
        ({"rrule": "FREQ=WEEKLY;INTERVAL=-1"}, "INTERVAL is a number of weeks from 1 to 52"),
        ({"rrule": "FREQ=WEEKLY;COUNT=0"}, "COUNT is a number of episodes, at least 1"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=8,10,12,14,16"}, "35 episodes a week"),
        (
            {"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2,3;BYMINUTE=30"},
            "02:30 and 03:30 on 2027-03-28 are the same moment in Europe/Paris (the clocks skip an hour that night)",
        ),
        ({"default_host_id": "00000000-0000-0000-0000-000000000000"}, "host must be a host or manager"),
    ],
)
async def test_bad_shows_are_refused_with_a_reason_and_nothing_saved(
    client, factory: Factory, manager: Staff, fields: dict[str, Any], reason: str
) -> None:
    body = {"title": "Show", "time_zone": "Europe/Paris", "first_episode_at": "2026-09-22T19:00", **fields}
    response = await client.post("/api/v1/brands/acme/shows", json=body, headers=manager.headers)
    assert response.status == 422, await response.text()
    problem = await response.json()
    assert problem["type"] == "urn:shopcast:problem:invalid-input"
    assert reason in problem["detail"]
    shows = await client.get("/api/v1/brands/acme/shows", headers=manager.headers)
    assert await shows.json() == []


async def test_a_moderator_cannot_be_the_default_host(client, factory: Factory, manager: Staff) -> None:
    moderator = await factory.staff("acme", Role.MODERATOR)
    host = await factory.staff("acme", Role.HOST)
    body = {"title": "S", "time_zone": "Europe/Paris", "first_episode_at": "2026-09-22T19:00"}
    response = await client.post(
        "/api/v1/brands/acme/shows", json={**body, "default_host_id": str(moderator.id)}, headers=manager.headers
    )
    await refused(response, 422, "the host must be a host or manager of this brand")
    show = await factory.show("acme", manager, default_host_id=str(host.id))
    episodes = await factory.episodes(show["id"], manager)
    assert {e["host_id"] for e in episodes} == {str(host.id)}
    assert episodes[0]["host_name"]


async def test_changing_the_schedule_moves_untouched_episodes_and_keeps_moved_and_cancelled_ones(
    client, factory: Factory, manager: Staff
) -> None:
    show = await factory.show("acme", manager, first_episode_at="2026-09-22T19:00", rrule="FREQ=WEEKLY;BYDAY=TU")
    episodes = await factory.episodes(show["id"], manager)
    moved, cancelled = episodes[1], episodes[2]
    await client.patch(
        f"/api/v1/episodes/{moved['id']}", json={"starts_at": "2026-10-01T20:00"}, headers=manager.headers
    )
    await client.post(f"/api/v1/episodes/{cancelled['id']}/cancel", headers=manager.headers)

    response = await client.patch(
        f"/api/v1/shows/{show['id']}",
        json={"rrule": "FREQ=WEEKLY;BYDAY=WE", "first_episode_at": "2026-09-23T18:00", "title": "Wednesday Live"},
        headers=manager.headers,
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["title"] == "Wednesday Live"
    after = await factory.episodes(show["id"], manager)
    by_id = {e["id"]: e for e in after}
    assert by_id[moved["id"]]["starts_at_local"] == "2026-10-01T20:00:00+02:00"
    # The cancelled Tuesday's week stays without a show: its Wednesday is the one cancelled.
    assert by_id[cancelled["id"]]["status"] == "cancelled"
    assert by_id[cancelled["id"]]["starts_at_local"] == "2026-10-07T18:00:00+02:00"
    regular = [e for e in after if e["id"] not in (moved["id"], cancelled["id"])]
    # Every Wednesday at 18:00 Paris time: summer time (+02:00) until the clocks go back on 25 October;
    # the moved episode's week has that one only.
    assert local_times(regular) == [
        "2026-09-23T18:00:00+02:00",
        "2026-10-14T18:00:00+02:00",
        "2026-10-21T18:00:00+02:00",
        "2026-10-28T18:00:00+01:00",
        "2026-11-04T18:00:00+01:00",
        "2026-11-11T18:00:00+01:00",
    ]
    assert [e["starts_at"] for e in regular[2:4]] == ["2026-10-21T16:00:00Z", "2026-10-28T17:00:00Z"]
    assert not any(e["starts_at_local"].startswith("2026-09-29") for e in after)
    # The calendar feed names the new slots the moved and the cancelled episodes hold.
    feed = (await (await client.get(show["calendar_path"])).read()).decode()
    assert "EXDATE;TZID=Europe/Paris:20261007T180000" in feed
    assert "RECURRENCE-ID;TZID=Europe/Paris:20260930T180000" in feed


async def test_a_new_day_time_and_host_keep_the_coming_episodes_and_what_is_planned_for_them(
    client, factory: Factory, manager: Staff
) -> None:
    ines, omar = await factory.staff("acme", Role.HOST), await factory.staff("acme", Role.HOST)
    show = await factory.show("acme", manager, default_host_id=str(ines.id))
    before = await factory.episodes(show["id"], manager)
    # The second episode has a poll ready and a host of its own; the third is 90 minutes long.
    second, third = before[1]["id"], before[2]["id"]
    poll = {"question": "Which colour?", "options": [{"label": "Sand"}, {"label": "Navy"}]}
    assert (await client.post(f"/api/v1/episodes/{second}/polls", json=poll, headers=manager.headers)).status == 201
    for episode_id, change in [(second, {"host_id": str(omar.id)}), (third, {"duration_minutes": 90})]:
        response = await client.patch(f"/api/v1/episodes/{episode_id}", json=change, headers=manager.headers)
        assert response.status == 200, await response.text()

    body = {
        "first_episode_at": "2026-09-24T20:00",
        "rrule": "FREQ=WEEKLY",
        "duration_minutes": 45,
        "default_host_id": str(manager.id),
    }
    response = await client.patch(f"/api/v1/shows/{show['id']}", json=body, headers=manager.headers)
    assert response.status == 200, await response.text()

    after = await factory.episodes(show["id"], manager)
    # The same episodes, each on the Thursday of its week at 20:00: their links and plans still hold.
    assert [e["id"] for e in after] == [e["id"] for e in before]
    assert local_times(after)[:3] == [
        "2026-09-24T20:00:00+02:00",
        "2026-10-01T20:00:00+02:00",
        "2026-10-08T20:00:00+02:00",
    ]
    assert not any(e["is_moved"] for e in after)
    # The show's new host and length, but where an episode had its own.
    assert [e["host_id"] for e in after[:3]] == [str(manager.id), str(omar.id), str(manager.id)]
    assert [e["duration_minutes"] for e in after[:3]] == [45, 45, 90]
    polls = await client.get(f"/api/v1/episodes/{second}/polls", headers=manager.headers)
    assert [p["question"] for p in await polls.json()] == ["Which colour?"]


async def test_every_other_week_keeps_one_episode_in_two_and_those_given_a_title(
    client, factory: Factory, manager: Staff
) -> None:
    show = await factory.show("acme", manager)
    weekly = await factory.episodes(show["id"], manager)
    special = weekly[3]["id"]
    change = {"title": "Autumn special"}
    assert (await client.patch(f"/api/v1/episodes/{special}", json=change, headers=manager.headers)).status == 200

    body = {"rrule": "FREQ=WEEKLY;INTERVAL=2", "first_episode_at": "2026-09-22T19:00"}
    response = await client.patch(f"/api/v1/shows/{show['id']}", json=body, headers=manager.headers)
    assert response.status == 200, await response.text()

    after = await factory.episodes(show["id"], manager)
    kept = [weekly[i]["id"] for i in (0, 2, 3, 4, 6)]
    assert [e["id"] for e in after] == kept
    assert [e["title"] for e in after] == ["Tuesday Night Live"] * 2 + ["Autumn special"] + ["Tuesday Night Live"] * 2


async def test_a_day_dropped_from_the_schedule_leaves_the_other_day_s_episodes_where_they_are(
    client, factory: Factory, manager: Staff
) -> None:
    show = await factory.show("acme", manager, rrule="FREQ=WEEKLY;BYDAY=TU,TH")
    both = await factory.episodes(show["id"], manager)
    thursdays = [e["id"] for e in both if e["starts_at_local"].startswith(("2026-09-24", "2026-10-01"))]

    body = {"rrule": "FREQ=WEEKLY;BYDAY=TH", "first_episode_at": "2026-09-24T19:00"}
    response = await client.patch(f"/api/v1/shows/{show['id']}", json=body, headers=manager.headers)
    assert response.status == 200, await response.text()

    after = await factory.episodes(show["id"], manager)
    assert [e["id"] for e in after[:2]] == thursdays
    assert all(e["starts_at_local"][11:16] == "19:00" for e in after)
    assert {e["id"] for e in after} < {e["id"] for e in both}


async def test_show_update_validates_like_creation(client, factory: Factory, manager: Staff) -> None:
    show = await factory.show("acme", manager)
    episodes = await factory.episodes(show["id"], manager)
    for body, reason in [
        ({"time_zone": "Nowhere"}, "unknown time zone"),
        ({"title": None}, "title cannot be empty"),
        ({"first_episode_at": "1550-03-03T19:00"}, "first_episode_at: must be no earlier than 2025-09-20"),
        ({"rrule": "FREQ=WEEKLY;UNTIL=20991231"}, "UNTIL must be no later than 2028-09-19"),
    ]:
        response = await client.patch(f"/api/v1/shows/{show['id']}", json=body, headers=manager.headers)
        assert response.status == 422
        assert reason in (await response.json())["detail"]
    unchanged = await client.get(f"/api/v1/shows/{show['id']}", headers=manager.headers)
    assert (await unchanged.json())["time_zone"] == "Europe/Paris"
    assert await factory.episodes(show["id"], manager) == episodes


async def test_a_nonsense_first_episode_is_refused_on_its_field(client, factory: Factory, manager: Staff) -> None:
    show = await factory.show("acme", manager)
    body = {"first_episode_at": "1550-03-03T19:00"}
    response = await client.patch(f"/api/v1/shows/{show['id']}", json=body, headers=manager.headers)
    # The form marks the date it came from, like any invalid field.
    assert (await response.json())["errors"] == [
        {
            "field": "first_episode_at",
            "reason": "must be no earlier than 2025-09-20: a show's first episode is at most 365 days back",
        }
    ]


async def test_a_show_read_long_after_it_began_can_be_sent_back(
    client, factory: Factory, manager: Staff, clock
) -> None:
    show = await factory.show("acme", manager, first_episode_at="2026-09-22T19:00")
    clock.advance(days=400)
    manager = await factory.sign_in(manager.email, manager.id)
    read = await (await client.get(f"/api/v1/shows/{show['id']}", headers=manager.headers)).json()
    body = {k: read[k] for k in ("title", "time_zone", "first_episode_at", "rrule", "duration_minutes")}
    response = await client.patch(
        f"/api/v1/shows/{show['id']}", json={**body, "title": "Renamed"}, headers=manager.headers
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["first_episode_at"] == "2026-09-22T19:00:00+02:00"


async def test_unknown_and_malformed_show_ids_are_404(client, manager: Staff) -> None:
    for path, reason in [
        ("/api/v1/shows/0b7e2d7a-3f7e-4f57-9a52-3a3f0f0f0f0f", "no show 0b7e2d7a-3f7e-4f57-9a52-3a3f0f0f0f0f"),
        ("/api/v1/shows/not-an-id", "'not-an-id' is not an id"),
        ("/api/v1/public/shows/12345/calendar.ics", "'12345' is not an id"),
    ]:
        response = await client.get(path, headers=manager.headers)
        assert (await refused(response, 404, reason))["title"] == "Not found"
