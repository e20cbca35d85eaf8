"""Signing in, guest viewers, tokens and the sign-in limit, through the real API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopcast.web.app import create_app
from tests.conftest import SettableClock, make_settings
from tests.factories import PASSWORD, Factory


async def test_manager_signs_in_and_the_token_says_who_they_are(client, factory: Factory) -> None:
    await factory.brand("acme", "Acme")
    manager = await factory.staff("acme", "manager", email="Camille@Acme.test")
    response = await client.post("/api/v1/auth/login", json={"email": " camille@acme.test ", "password": PASSWORD})
    assert response.status == 200
    body = await response.json()
    assert body["me"]["kind"] == "user"
    assert body["me"]["memberships"] == [
        {
            "brand": {"id": body["me"]["memberships"][0]["brand"]["id"], "slug": "acme", "name": "Acme"},
            "role": "manager",
        }
    ]
    me = await client.get("/api/v1/me", headers=manager.headers)
    assert (await me.json())["id"] == str(manager.id)


async def test_wrong_password_and_unknown_email_get_the_same_answer(client, factory: Factory) -> None:
    await factory.brand()
    staff = await factory.staff("acme", "host")
    wrong = await client.post("/api/v1/auth/login", json={"email": staff.email, "password": "nope"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "ghost@acme.test", "password": "nope"})
    assert wrong.status == unknown.status == 401
    assert wrong.content_type == "application/problem+json"
    assert (await wrong.json())["detail"] == (await unknown.json())["detail"] == "wrong email or password"


async def test_sign_in_attempts_are_limited_per_email(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock
) -> None:
    settings = make_settings(tmp_path, login_max_attempts=3, **backend)
    client = await aiohttp_client(create_app(settings, clock=clock))
    statuses = []
    for _ in range(5):
        response = await client.post("/api/v1/auth/login", json={"email": "victim@acme.test", "password": "guess"})
        statuses.append(response.status)
    assert statuses == [401, 401, 401, 429, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert "too many sign-in attempts" in (await response.json())["detail"]


async def test_a_viewer_gets_a_guest_token_with_just_a_nickname(client) -> None:
    response = await client.post("/api/v1/auth/guest", json={"nickname": "  Léa 🌸 "})
    assert response.status == 201
    body = await response.json()
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert await me.json() == {"kind": "guest", "id": body["me"]["id"], "name": "Léa 🌸", "memberships": []}


@pytest.mark.parametrize(
    ("nickname", "reason"),
    [("", "at least 2"), ("x" * 40, "at most 32"), ("bad\u0007bell", "control characters"), (None, "string")],
)
async def test_bad_nicknames_are_refused_with_a_reason(client, nickname: object, reason: str) -> None:
    response = await client.post("/api/v1/auth/guest", json={"nickname": nickname})
    assert response.status == 422
    assert reason in (await response.json())["detail"]


async def test_guests_cannot_do_staff_things(client, factory: Factory) -> None:
    await factory.brand()
    guest = await factory.guest()
    response = await client.get("/api/v1/brands/acme/shows", headers=guest)
    assert response.status == 403
    assert "guests" in (await response.json())["detail"]


async def test_expired_tampered_and_missing_tokens_are_401(client, factory: Factory, clock: SettableClock) -> None:
    await factory.brand()
    staff = await factory.staff("acme", "manager")
    assert (await client.get("/api/v1/brands/acme/shows")).status == 401
    assert (await client.get("/api/v1/me")).status == 401
    tampered = staff.token[:-3] + ("aaa" if not staff.token.endswith("aaa") else "bbb")
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status == 401
    response = await client.get("/api/v1/me", headers={"Authorization": f"Token {staff.token}"})
    assert response.status == 401
    clock.advance(hours=13)
    response = await client.get("/api/v1/me", headers=staff.headers)
    assert response.status == 401
    assert "expired" in (await response.json())["detail"]


async def test_a_token_from_another_secret_is_refused(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], client, factory: Factory, clock: SettableClock
) -> None:
    await factory.brand()
    staff = await factory.staff("acme", "manager")
    other = make_settings(tmp_path, secret_key="another-secret-key-that-is-long-enough", **backend)
    other_client = await aiohttp_client(create_app(other, clock=clock))
    assert (await other_client.get("/api/v1/me", headers=staff.headers)).status == 401


async def test_members_are_listed_for_the_brand_staff_only(client, factory: Factory) -> None:
    await factory.brand("acme")
    await factory.brand("globex")
    manager = await factory.staff("acme", "manager", email="boss@acme.test")
    host = await factory.staff("acme", "host", email="host@acme.test")
    outsider = await factory.staff("globex", "manager")
    response = await client.get("/api/v1/brands/acme/members", headers=host.headers)
    assert response.status == 200
    assert {(m["email"], m["role"]) for m in await response.json()} == {
        ("boss@acme.test", "manager"),
        ("host@acme.test", "host"),
    }
    assert (await client.get("/api/v1/brands/acme/members", headers=outsider.headers)).status == 403
    assert (await client.get("/api/v1/brands/nope/members", headers=manager.headers)).status == 404
