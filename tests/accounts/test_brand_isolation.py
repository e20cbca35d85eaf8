"""A brand's staff can never read or change another brand's things, and roles are respected."""

from __future__ import annotations

from typing import Any

import pytest

from shopcast.core.security import Role
from tests.factories import Factory, Staff


@pytest.fixture
async def two_brands(factory: Factory) -> dict[str, Any]:
    await factory.brand("acme")
    await factory.brand("globex")
    acme = await factory.staff("acme", Role.MANAGER)
    globex = await factory.staff("globex", Role.MANAGER)
    show = await factory.show("globex", globex, title="Globex Friday")
    episode = (await factory.episodes(show["id"], globex))[0]
    return {"acme": acme, "globex": globex, "show": show, "episode": episode}


async def test_another_brands_manager_can_neither_read_nor_change(client, factory: Factory, two_brands) -> None:
    intruder: Staff = two_brands["acme"]
    show, episode = two_brands["show"], two_brands["episode"]
    attempts = [
        client.get("/api/v1/brands/globex/shows", headers=intruder.headers),
        client.post(
            "/api/v1/brands/globex/shows",
            json={"title": "X", "time_zone": "UTC", "first_episode_at": "2026-10-01T10:00"},
            headers=intruder.headers,
        ),
        client.get(f"/api/v1/shows/{show['id']}", headers=intruder.headers),
        client.patch(f"/api/v1/shows/{show['id']}", json={"title": "Hacked"}, headers=intruder.headers),
        client.get(f"/api/v1/shows/{show['id']}/episodes", headers=intruder.headers),
        client.post(
            f"/api/v1/shows/{show['id']}/episodes", json={"starts_at": "2026-10-10T10:00"}, headers=intruder.headers
        ),
        client.patch(f"/api/v1/episodes/{episode['id']}", json={"title": "Hacked"}, headers=intruder.headers),
        client.post(f"/api/v1/episodes/{episode['id']}/cancel", headers=intruder.headers),
        client.post(f"/api/v1/episodes/{episode['id']}/start", headers=intruder.headers),
        client.get("/api/v1/brands/globex/members", headers=intruder.headers),
        client.get(f"/api/v1/episodes/{episode['id']}/broadcast", headers=intruder.headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status == 403, (response.method, response.url, await response.text())
        assert "no role in this brand" in (await response.json())["detail"]
    owner = two_brands["globex"]
    shows = await (await client.get("/api/v1/brands/globex/shows", headers=owner.headers)).json()
    assert [s["title"] for s in shows] == ["Globex Friday"]
    episodes = await factory.episodes(show["id"], owner)
    assert episodes[0] == episode


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.MANAGER, {"list", "create", "cancel", "start"}),
        (Role.HOST, {"list", "start"}),
        (Role.MODERATOR, {"list"}),
    ],
)
async def test_each_role_does_what_it_is_for(client, factory: Factory, role: Role, allowed: set[str]) -> None:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    first, second = (await factory.episodes(show["id"], manager))[:2]
    staff = await factory.staff("acme", role)
    body = {"title": "New", "time_zone": "UTC", "first_episode_at": "2026-10-01T10:00"}
    results = {
        "list": await client.get("/api/v1/brands/acme/shows", headers=staff.headers),
        "create": await client.post("/api/v1/brands/acme/shows", json=body, headers=staff.headers),
        "cancel": await client.post(f"/api/v1/episodes/{first['id']}/cancel", headers=staff.headers),
        "start": await client.post(f"/api/v1/episodes/{second['id']}/start", headers=staff.headers),
    }
    for action, response in results.items():
        expected = action in allowed
        assert (response.status < 300) == expected, (role, action, response.status, await response.text())
        if not expected:
            assert response.status == 403
            assert f"you are {role.value}" in (await response.json())["detail"]
