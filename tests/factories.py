"""Test data made through the services and the API, the way users make it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient

from shopcast.accounts import service as accounts
from shopcast.core.db import Database
from shopcast.core.security import Role

PASSWORD = "correct horse battery"


@dataclass
class Staff:
    email: str
    token: str
    id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, client: TestClient, database: Database, now: datetime) -> None:
        self.client = client
        self.database = database
        self.now = now

    async def brand(self, slug: str = "acme", name: str | None = None) -> str:
        async with self.database.transaction() as session:
            await accounts.create_brand(session, slug=slug, name=name or slug.title(), now=self.now)
        return slug

    async def staff(self, brand: str, role: Role | str, email: str | None = None) -> Staff:
        """A staff user of `brand`, signed in through the API."""
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@{brand}.test"
        async with self.database.transaction() as session:
            b = await accounts.get_brand(session, slug=brand)
            user = await accounts.add_user(
                session, email=email, password=PASSWORD, role=Role(role), brand=b, now=self.now
            )
        return await self.sign_in(email, user.id)

    async def sign_in(self, email: str, user_id: uuid.UUID) -> Staff:
        response = await self.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status == 200, await response.text()
        return Staff(email=email, token=(await response.json())["token"], id=user_id)

    async def guest(self, nickname: str | None = "Lea") -> dict[str, str]:
        """A guest viewer's headers; `nickname=None` for a nameless guest (votes, enters, buys; no chat)."""
        body = {"nickname": nickname} if nickname is not None else {}
        response = await self.client.post("/api/v1/auth/guest", json=body)
        assert response.status == 201, await response.text()
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    async def show(self, brand: str, manager: Staff, **fields: Any) -> dict[str, Any]:
        body = {
            "title": "Tuesday Night Live",
            "time_zone": "Europe/Paris",
            "first_episode_at": "2026-09-22T19:00",
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "duration_minutes": 60,
        }
        body.update(fields)
        response = await self.client.post(f"/api/v1/brands/{brand}/shows", json=body, headers=manager.headers)
        assert response.status == 201, await response.text()
        return await response.json()

    async def episodes(self, show_id: str, staff: Staff, *, include_past: bool = False) -> list[dict[str, Any]]:
        query = "?include_past=true" if include_past else ""
        response = await self.client.get(f"/api/v1/shows/{show_id}/episodes{query}", headers=staff.headers)
        assert response.status == 200, await response.text()
        return await response.json()
