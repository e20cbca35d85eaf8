"""A live episode with polls: written and opened through the API by its staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shopcast.core.settings import Settings
from tests.chat.conftest import Join, Room, join, room  # noqa: F401  (the live room's fixtures)
from tests.conftest import make_settings
from tests.factories import Staff

__all__ = ["Join", "Polls", "Room"]

COLOURS = {"question": "Which colour next?", "options": [{"label": "Red"}, {"label": "Blue"}, {"label": "Green"}]}


VIEWERS = 200


@pytest.fixture
def settings(tmp_path: Any, backend: dict[str, Any]) -> Settings:
    # Every viewer of a crowd gets a guest token from the same test address.
    return make_settings(tmp_path, guest_max_per_window=VIEWERS + 50, **backend)


@dataclass
class Polls:
    client: Any
    room: Room

    async def create(self, staff: Staff | None = None, **fields: Any) -> dict[str, Any]:
        """A draft written by the host (or `staff`), 201."""
        response = await self.client.post(
            self.room.path("/polls"), json={**COLOURS, **fields}, headers=(staff or self.room.host).headers
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def act(self, poll_id: str, action: str, staff: Staff | None = None) -> Any:
        return await self.client.post(f"/api/v1/polls/{poll_id}/{action}", headers=(staff or self.room.host).headers)

    async def open(self, **fields: Any) -> dict[str, Any]:
        """A poll written and opened by the host."""
        poll = await self.create(**fields)
        response = await self.act(poll["id"], "open")
        assert response.status == 200, await response.text()
        return await response.json()

    async def close(self, poll_id: str) -> dict[str, Any]:
        response = await self.act(poll_id, "close")
        assert response.status == 200, await response.text()
        return await response.json()

    async def listed(self, staff: Staff | None = None) -> list[dict[str, Any]]:
        response = await self.client.get(self.room.path("/polls"), headers=(staff or self.room.manager).headers)
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.fixture
async def polls(client: Any, room: Room) -> Polls:  # noqa: F811
    return Polls(client, room)


def vote(episode_id: str, poll: dict[str, Any], *indexes: int) -> dict[str, Any]:
    """The `poll:vote` data for the options at these indexes."""
    return {"episode_id": episode_id, "poll_id": poll["id"], "option_ids": [poll["options"][i]["id"] for i in indexes]}
