"""A live episode with its staff, and viewers connected to its room."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shopcast.core.security import Role
from tests.factories import Factory, Staff
from tests.live_room import Viewer


@dataclass
class Room:
    episode_id: str
    manager: Staff
    host: Staff
    moderator: Staff

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/episodes/{self.episode_id}{suffix}"


@pytest.fixture
async def room(client: Any, factory: Factory) -> Room:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    host = await factory.staff("acme", Role.HOST)
    moderator = await factory.staff("acme", Role.MODERATOR)
    show = await factory.show("acme", manager)
    episode_id = (await factory.episodes(show["id"], manager))[0]["id"]
    started = await client.post(f"/api/v1/episodes/{episode_id}/start", headers=host.headers)
    assert started.status == 200, await started.text()
    return Room(episode_id, manager, host, moderator)


Join = Callable[..., Awaitable[Viewer]]


@pytest.fixture
async def join(client: Any, factory: Factory, room: Room) -> AsyncIterator[Join]:
    """Connect someone (a guest by nickname, or staff) and join the room; returns the client."""
    made: list[Viewer] = []

    async def connect(
        who: str | Staff | None = "Lea",
        *,
        episode_id: str | None = None,
        token: str | None = None,
        lang: str | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> Viewer:
        """`who`: a nickname, staff, or None for a nameless guest; `token`: connect with this one instead;
        `lang` (in `auth`) or `headers` (Accept-Language): the page's language."""
        if token is None:
            token = who.token if isinstance(who, Staff) else (await factory.guest(who))["Authorization"][7:]
        viewer = Viewer(**options)
        made.append(viewer)
        await viewer.connect(client, token, headers=headers, lang=lang)
        viewer.token = token
        viewer.ack = await viewer.call("join", {"episode_id": episode_id or room.episode_id})
        return viewer

    yield connect
    for viewer in made:
        await viewer.sio.disconnect()
