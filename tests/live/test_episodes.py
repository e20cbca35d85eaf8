"""One episode at a time: move, cancel, one-offs, going live and ending, and the public listings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shopcast.core.security import Role
from shopcast.web.context import RESOURCES
from tests.factories import Factory, Staff
from tests.problems import refused


@pytest.fixture
async def planned(factory: Factory) -> dict[str, Any]:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    host = await factory.staff("acme", Role.HOST)
    show = await factory.show("acme", manager, first_episode_at="2026-09-22T19:00", default_host_id=str(host.id))
    return {"manager": manager, "host": host, "show": show, "episodes": await factory.episodes(show["id"], manager)}


async def test_moving_one_episode_leaves_the_others_alone(client, factory: Factory, planned) -> None:
    manager: Staff = planned["manager"]
    before = planned["episodes"]
    target = before[2]
    response = await client.patch(
        f"/api/v1/episodes/{target['id']}",
        json={"starts_at": "2026-10-07T20:30", "title": "Special: autumn coats", "duration_minutes": 90},
        headers=manager.headers,
    )
    assert response.status == 200, await response.text()
    moved = await response.json()
    assert moved["starts_at_local"] == "2026-10-07T20:30:00+02:00"
    assert moved["is_moved"] and moved["title"] == "Special: autumn coats" and moved["duration_minutes"] == 90
    after = await factory.episodes(planned["show"]["id"], manager)
    assert [e for e in after if e["id"] != target["id"]] == [e for e in before if e["id"] != target["id"]]


async def test_cancelling_one_episode_hides_it_from_viewers_only(client, factory: Factory, planned) -> None:
    manager: Staff = planned["manager"]
    target = planned["episodes"][1]
    response = await client.post(f"/api/v1/episodes/{target['id']}/cancel", headers=manager.headers)
    assert response.status == 200
    assert (await response.json())["status"] == "cancelled"
    staff_view = await factory.episodes(planned["show"]["id"], manager)
    assert [e["status"] for e in staff_view[:3]] == ["scheduled", "cancelled", "scheduled"]
    public = await (await client.get(f"/api/v1/public/shows/{planned['show']['id']}/episodes")).json()
    assert target["id"] not in {e["id"] for e in public}
    assert len(public) == len(staff_view) - 1
    again = await client.post(f"/api/v1/episodes/{target['id']}/cancel", headers=manager.headers)
    await refused(again, 409, "cannot make a cancelled episode cancelled: the episode is already cancelled")


async def test_a_one_off_episode_joins_the_show(client, factory: Factory, planned) -> None:
    manager: Staff = planned["manager"]
    show_id = planned["show"]["id"]
    response = await client.post(
        f"/api/v1/shows/{show_id}/episodes",
        json={"starts_at": "2026-09-26T11:00", "title": "Saturday flash sale"},
        headers=manager.headers,
    )
    assert response.status == 201, await response.text()
    extra = await response.json()
    assert extra["is_one_off"] and extra["starts_at_local"] == "2026-09-26T11:00:00+02:00"
    assert extra["host_id"] == str(planned["host"].id)
    listed = await factory.episodes(show_id, manager)
    assert [e["title"] for e in listed[:3]] == ["Tuesday Night Live", "Saturday flash sale", "Tuesday Night Live"]
    past = await client.post(
        f"/api/v1/shows/{show_id}/episodes", json={"starts_at": "2026-01-01T10:00"}, headers=manager.headers
    )
    assert past.status == 422
    assert "future" in (await past.json())["detail"]


TOO_FAR = "must be no later than 2028-09-19: nothing is planned more than 730 days ahead"  # clock: 2026-09-20


@pytest.mark.parametrize(
    ("starts_at", "too_far"),
    [
        ("1550-03-03T19:00", False),
        ("0001-01-01T00:00:00+14:00", False),
        ("2028-09-26T19:00", True),
        ("9999-12-31T23:00:00-12:00", True),
    ],
)
async def test_one_offs_and_moves_stay_within_what_a_schedule_means(
    client, factory: Factory, planned, starts_at: str, too_far: bool
) -> None:
    manager: Staff = planned["manager"]
    show_id, target = planned["show"]["id"], planned["episodes"][0]
    added = await client.post(
        f"/api/v1/shows/{show_id}/episodes", json={"starts_at": starts_at}, headers=manager.headers
    )
    assert added.status == 422
    reason = TOO_FAR if too_far else "a new episode must start in the future"
    assert (await added.json())["errors"] == [{"field": "starts_at", "reason": reason}]
    moved = await client.patch(
        f"/api/v1/episodes/{target['id']}", json={"starts_at": starts_at}, headers=manager.headers
    )
    assert moved.status == 422
    reason = TOO_FAR if too_far else "an episode can only be moved to a time in the future"
    assert (await moved.json())["detail"] == f"starts_at: {reason}"
    assert await factory.episodes(show_id, manager) == planned["episodes"]


async def test_only_the_brand_s_managers_plan_its_episodes(client, factory: Factory, planned) -> None:
    host: Staff = planned["host"]
    show_id, episode_id = planned["show"]["id"], planned["episodes"][0]["id"]
    await factory.brand("rival")
    rival = await factory.staff("rival", Role.MANAGER)
    planning = [
        ("PATCH", f"/api/v1/episodes/{episode_id}", {"starts_at": "2026-10-01T20:00"}),
        ("POST", f"/api/v1/episodes/{episode_id}/cancel", None),
        ("POST", f"/api/v1/shows/{show_id}/episodes", {"starts_at": "2026-10-03T11:00"}),
        ("PATCH", f"/api/v1/shows/{show_id}", {"title": "Taken over"}),
    ]
    for method, path, body in planning:
        response = await client.request(method, path, json=body, headers=host.headers)
        await refused(response, 403, "this needs the manager role; you are host")
        response = await client.request(method, path, json=body, headers=rival.headers)
        await refused(response, 403, "you have no role in this brand")
    # Another brand's manager does not even read the episodes, nor plans their lineups.
    for method, path, body in [
        ("GET", f"/api/v1/shows/{show_id}/episodes", None),
        ("PUT", f"/api/v1/episodes/{episode_id}/lineup", {"product_ids": []}),
    ]:
        response = await client.request(method, path, json=body, headers=rival.headers)
        await refused(response, 403, "you have no role in this brand")
    assert await factory.episodes(show_id, planned["manager"]) == planned["episodes"]


async def test_host_goes_live_then_ends_and_the_room_hears_it(client, planned) -> None:
    host: Staff = planned["host"]
    episode = planned["episodes"][0]
    bus = client.app[RESOURCES].bus
    async with bus.subscribe(f"episode:{episode['id']}") as room:
        live = await client.post(f"/api/v1/episodes/{episode['id']}/start", headers=host.headers)
        assert live.status == 200
        assert (await live.json())["status"] == "live"
        ended = await client.post(f"/api/v1/episodes/{episode['id']}/end", headers=host.headers)
        assert (await ended.json())["status"] == "ended"
        async with asyncio.timeout(5):
            heard = [await anext(room), await anext(room)]
    assert [(e.event, e.payload["status"]) for e in heard] == [("episode:live", "live"), ("episode:ended", "ended")]
    assert heard[1].seq == heard[0].seq + 1
    public = await (await client.get(f"/api/v1/public/episodes/{episode['id']}")).json()
    assert public["status"] == "ended"


@pytest.mark.parametrize(
    ("steps", "action", "reason"),
    [
        ([], "end", "has not gone live yet"),
        (["start"], "start", "already live"),
        (["start"], "cancel", "end it instead"),
        (["start", "end"], "start", "cannot go live again"),
        (["cancel"], "start", "was cancelled"),
    ],
)
async def test_impossible_transitions_are_409_with_the_reason(
    client, planned, steps: list[str], action: str, reason: str
) -> None:
    manager: Staff = planned["manager"]
    episode_id = planned["episodes"][0]["id"]
    for step in steps:
        assert (await client.post(f"/api/v1/episodes/{episode_id}/{step}", headers=manager.headers)).status == 200
    response = await client.post(f"/api/v1/episodes/{episode_id}/{action}", headers=manager.headers)
    assert response.status == 409
    problem = await response.json()
    assert problem["type"] == "urn:shopcast:problem:conflict"
    assert reason in problem["detail"]


async def test_two_hosts_pressing_go_live_together_make_one_live_episode(client, planned) -> None:
    manager: Staff = planned["manager"]
    host: Staff = planned["host"]
    episode_id = planned["episodes"][0]["id"]
    responses = await asyncio.gather(
        client.post(f"/api/v1/episodes/{episode_id}/start", headers=manager.headers),
        client.post(f"/api/v1/episodes/{episode_id}/start", headers=host.headers),
    )
    assert sorted(r.status for r in responses) == [200, 409]
    (lost,) = [r for r in responses if r.status == 409]
    assert (await lost.json())["detail"] == "cannot make a live episode live: the episode is already live"


async def test_an_aired_episode_cannot_be_moved(client, planned) -> None:
    manager: Staff = planned["manager"]
    episode_id = planned["episodes"][0]["id"]
    await client.post(f"/api/v1/episodes/{episode_id}/start", headers=manager.headers)
    response = await client.patch(
        f"/api/v1/episodes/{episode_id}", json={"starts_at": "2026-12-01T19:00"}, headers=manager.headers
    )
    assert response.status == 409
    assert "only a scheduled episode can be changed" in (await response.json())["detail"]


async def test_viewers_see_the_brands_coming_episodes_soonest_first(client, factory: Factory, planned) -> None:
    manager: Staff = planned["manager"]
    await factory.show(
        "acme", manager, title="Morning Coffee", first_episode_at="2026-09-21T09:00", rrule="FREQ=WEEKLY"
    )
    response = await client.get("/api/v1/public/brands/acme/episodes?limit=3")
    assert response.status == 200
    episodes = await response.json()
    assert [(e["show_title"], e["starts_at_local"]) for e in episodes] == [
        ("Morning Coffee", "2026-09-21T09:00:00+02:00"),
        ("Tuesday Night Live", "2026-09-22T19:00:00+02:00"),
        ("Morning Coffee", "2026-09-28T09:00:00+02:00"),
    ]
    unknown = await client.get("/api/v1/public/brands/nobody/episodes")
    assert (unknown.status, (await unknown.json())["detail"]) == (404, "no brand 'nobody'")
    too_few = await client.get("/api/v1/public/brands/acme/episodes?limit=0")
    assert (too_few.status, (await too_few.json())["detail"]) == (
        422,
        "limit: Input should be greater than or equal to 1",
    )
    show = await (await client.get(f"/api/v1/public/shows/{planned['show']['id']}")).json()
    assert show["brand_slug"] == "acme" and show["calendar_path"].endswith("/calendar.ics")


async def test_a_live_episode_stays_listed_while_an_ended_one_goes(client, factory: Factory, planned, clock) -> None:
    first = planned["episodes"][0]
    clock.advance(days=2, hours=7)  # 22 Sep 17:00 UTC = 19:00 Paris
    manager = await factory.sign_in(planned["manager"].email, planned["manager"].id)
    await client.post(f"/api/v1/episodes/{first['id']}/start", headers=manager.headers)
    clock.advance(hours=3)  # overrunning its hour: still live, still listed
    listed = await (await client.get(f"/api/v1/public/shows/{planned['show']['id']}/episodes")).json()
    assert listed[0]["id"] == first["id"] and listed[0]["status"] == "live"
    await client.post(f"/api/v1/episodes/{first['id']}/end", headers=manager.headers)
    listed = await (await client.get(f"/api/v1/public/shows/{planned['show']['id']}/episodes")).json()
    assert first["id"] not in {e["id"] for e in listed}
