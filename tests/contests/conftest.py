"""A live episode with giveaways: the manager prepares, the host opens, closes and draws, viewers enter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.catalog.conftest import Shop, shop  # noqa: F401  (a brand that sells, in the live room)
from tests.chat.conftest import Join, Room, join, room  # noqa: F401  (the live room's fixtures)
from tests.factories import Staff
from tests.live_room import Viewer

__all__ = ["SCARF", "Giveaways", "Join", "Room", "Shop", "refused_event"]

SCARF = {
    "prize": {
        "title": "The silk scarf",
        "picture_url": "https://cdn.example.test/scarf.jpg",
        "value": {"amount": 8900, "currency": "EUR"},
    },
    "winners": 1,
    "rules": "One entry per viewer. Winners are told in the player.",
    "eligibility": {"present_at_draw": True, "min_watch_minutes": 0, "bought_during_show": False},
}


def bearer(viewer: Viewer) -> dict[str, str]:
    return {"Authorization": f"Bearer {viewer.token}"}


async def refused_event(viewer: Viewer, event: str, data: dict[str, Any], status: int, reason: str) -> dict[str, Any]:
    """The error of an event the room refused: its status, and its detail naming the reason."""
    ack = await viewer.call(event, data)
    assert ack["ok"] is False and ack["error"]["status"] == status, ack
    assert reason in ack["error"]["detail"], ack
    return ack["error"]


@dataclass
class Giveaways:
    client: Any
    room: Room

    async def prepare(self, **fields: Any) -> dict[str, Any]:
        """A draft giveaway, made by the brand's manager."""
        response = await self.client.post(
            self.room.path("/giveaways"), json={**SCARF, **fields}, headers=self.room.manager.headers
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def act(self, giveaway: dict[str, Any], action: str, who: Staff | None = None) -> Any:
        """POST open/close/draw/redraw as the host (unless told)."""
        return await self.client.post(
            f"/api/v1/giveaways/{giveaway['id']}/{action}", headers=(who or self.room.host).headers
        )

    async def done(self, giveaway: dict[str, Any], action: str) -> dict[str, Any]:
        response = await self.act(giveaway, action)
        assert response.status == 200, await response.text()
        return await response.json()

    async def opened(self, **fields: Any) -> dict[str, Any]:
        return await self.done(await self.prepare(**fields), "open")

    async def enter(self, viewer: Viewer, giveaway: dict[str, Any]) -> str:
        """The viewer's entry id, entered with the player's button."""
        ack = await viewer.call("giveaway:enter", {"episode_id": self.room.episode_id, "giveaway_id": giveaway["id"]})
        assert ack["ok"], ack
        assert ack["entry"]["giveaway_id"] == giveaway["id"]
        return ack["entry"]["id"]

    async def staff_view(self, giveaway: dict[str, Any], who: Staff | None = None) -> dict[str, Any]:
        """The giveaway in the episode's list, as its manager (unless told) sees it."""
        response = await self.client.get(self.room.path("/giveaways"), headers=(who or self.room.manager).headers)
        assert response.status == 200, await response.text()
        return next(g for g in await response.json() if g["id"] == giveaway["id"])

    async def proof(self, giveaway: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/public/giveaways/{giveaway['id']}/proof")
        assert response.status == 200, await response.text()
        return await response.json()

    async def me(self, viewer: Viewer, giveaway: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/giveaways/{giveaway['id']}/me", headers=bearer(viewer))
        assert response.status == 200, await response.text()
        return await response.json()

    async def claim(self, viewer: Viewer, giveaway: dict[str, Any], **body: Any) -> Any:
        body = body or {"email": "winner@example.com", "pickup_store_id": "paris-1"}
        return await self.client.post(f"/api/v1/giveaways/{giveaway['id']}/claim", json=body, headers=bearer(viewer))


@pytest.fixture
def giveaways(client: Any, room: Room) -> Giveaways:  # noqa: F811
    return Giveaways(client, room)


def write_proof(tmp_path: Path, proof: dict[str, Any], name: str = "proof.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(proof))
    return path
