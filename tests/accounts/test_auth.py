"""Signing in, guest viewers, tokens and the sign-in limit, through the real API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.db import Database
from shopcast.web.app import create_app
from tests.conftest import SettableClock, make_settings
from tests.factories import PASSWORD, Factory
from tests.problems import refused


async def test_manager_signs_in_and_the_token_says_who_they_are(client, factory: Factory) -> None:
    await factory.brand("acme", "Acme")
    manager = await factory.staff("acme", "manager", email="Camille@Acme.test")
    response = await client.post("/api/v1/auth/login", json={"email": " camille@acme.test ", "password": PASSWORD})
    assert response.status == 200
    body = await response.json()
    assert body["me"]["kind"] == "user"
    assert body["me"]["memberships"] == [
        {
            "brand": {
                "id": body["me"]["memberships"][0]["brand"]["id"],
                "slug": "acme",
                "name": "Acme",
                "default_language": "en",
                "reminder_lead_minutes": 15,
                "cart_follow_up_minutes": 60,
            },
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


@dataclass
class Staffed:
    client: Any
    factory: Factory
    email: str
    """A manager of brand "acme", signed in once (from 127.0.0.1) when made."""


@pytest.fixture
async def staffed(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock, database: Database
) -> Callable[..., Awaitable[Staffed]]:
    """The app with these settings behind a trusted proxy (so each request can come from the
    address it names), and a manager."""

    async def make(**changes: Any) -> Staffed:
        settings = make_settings(tmp_path, trust_forwarded_headers=True, **changes, **backend)
        client = await aiohttp_client(create_app(settings, clock=clock))
        factory = Factory(client, database, clock.now())
        await factory.brand("acme")
        return Staffed(client, factory, (await factory.staff("acme", "manager")).email)

    return make


async def sign_in(client: Any, email: str, password: str, address: str) -> Any:
    body = {"email": email, "password": password}
    return await client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address})


async def too_many(response: Any, reason: str, retry_after: int) -> None:
    body = await response.json()
    assert response.status == 429, body
    assert body["detail"] == f"too many sign-in attempts {reason}; try again in {retry_after} s"
    assert response.headers["Retry-After"] == str(retry_after)


async def test_guessing_one_account_from_one_address_is_slowed_until_the_window_reopens(
    staffed: Callable[..., Awaitable[Staffed]], clock: SettableClock
) -> None:
    app = await staffed(login_max_attempts=3)
    client, email = app.client, app.email
    statuses = [(await sign_in(client, email, "guess", "203.0.113.66")).status for _ in range(3)]
    assert statuses == [401, 401, 401]
    # The right password too: from this address the account is closed for the window.
    await too_many(await sign_in(client, email, PASSWORD, "203.0.113.66"), "for this email from your address", 300)
    clock.advance(seconds=299)
    await too_many(await sign_in(client, email, PASSWORD, "203.0.113.66"), "for this email from your address", 1)
    clock.advance(seconds=1)
    assert (await sign_in(client, email, PASSWORD, "203.0.113.66")).status == 200


async def test_a_stranger_guessing_a_password_cannot_lock_its_owner_out(
    staffed: Callable[..., Awaitable[Staffed]],
) -> None:
    app = await staffed(login_max_attempts=3, login_max_attempts_per_account=6)
    statuses = [(await sign_in(app.client, app.email, "guess", "203.0.113.66")).status for _ in range(20)]
    assert statuses == [401] * 3 + [429] * 17  # refused tries count against the stranger only
    assert (await sign_in(app.client, app.email, PASSWORD, "198.51.100.7")).status == 200  # the owner, at home


async def test_guessing_one_account_from_many_addresses_is_slowed_for_all_of_them(
    staffed: Callable[..., Awaitable[Staffed]], clock: SettableClock
) -> None:
    # Seven: the manager's own sign-in when made, and six guesses.
    app = await staffed(login_max_attempts=3, login_max_attempts_per_account=7)
    client, email = app.client, app.email
    for address in ("203.0.113.1", "203.0.113.2"):
        assert [(await sign_in(client, email, "guess", address)).status for _ in range(3)] == [401] * 3
    clock.advance(seconds=100)
    await too_many(await sign_in(client, email, "guess", "203.0.113.3"), "for this email from all addresses", 200)
    await too_many(await sign_in(client, email, PASSWORD, "198.51.100.7"), "for this email from all addresses", 200)
    other = (await app.factory.staff("acme", "host")).email  # other accounts are not affected
    assert (await sign_in(client, other, PASSWORD, "203.0.113.3")).status == 200
    clock.advance(seconds=200)
    assert (await sign_in(client, email, PASSWORD, "198.51.100.7")).status == 200


async def test_one_address_trying_many_accounts_is_slowed(staffed: Callable[..., Awaitable[Staffed]]) -> None:
    client = (await staffed(login_max_attempts=2)).client
    # Five times the per-account limit, across accounts; an IPv6 /64 is one address, however
    # its owner changes the last part.
    for n in range(10):
        assert (await sign_in(client, f"staff{n}@acme.test", "guess", f"2001:db8:1:2::{n:x}")).status == 401
    await too_many(
        await sign_in(client, "staff10@acme.test", "guess", "2001:db8:1:2:a:b:c:d"), "from your address", 300
    )
    assert (await sign_in(client, "staff10@acme.test", "guess", "203.0.113.66")).status == 401
    assert (await sign_in(client, "staff10@acme.test", "guess", "2001:db8:1:3::1")).status == 401


async def test_guest_tokens_are_limited_per_address_until_the_window_reopens(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock
) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path, guest_max_per_window=2, **backend), clock=clock))
    statuses = [(await client.post("/api/v1/auth/guest", json={"nickname": "Lea"})).status for _ in range(2)]
    assert statuses == [201, 201]
    response = await client.post("/api/v1/auth/guest", json={"nickname": "Lea"})
    assert response.status == 429 and response.headers["Retry-After"] == "300"
    assert (await response.json())["detail"] == "too many guest sign-ins; try again in 300 s"
    clock.advance(seconds=300)
    assert (await client.post("/api/v1/auth/guest", json={"nickname": "Lea"})).status == 201


async def test_a_viewer_gets_a_guest_token_with_just_a_nickname(client) -> None:
    response = await client.post("/api/v1/auth/guest", json={"nickname": "  Léa 🌸 "})
    assert response.status == 201
    body = await response.json()
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert await me.json() == {"kind": "guest", "id": body["me"]["id"], "name": "Léa 🌸", "memberships": []}


@pytest.mark.parametrize(
    ("nickname", "reason"),
    [("", "at least 2"), ("x" * 40, "at most 32"), ("bad\u0007bell", "control characters"), (7, "string")],
)
async def test_bad_nicknames_are_refused_with_a_reason(client, nickname: object, reason: str) -> None:
    response = await client.post("/api/v1/auth/guest", json={"nickname": nickname})
    await refused(response, 422, reason)


async def test_a_nameless_guest_picks_a_nickname_later_and_stays_the_same_guest(client) -> None:
    nameless = await client.post("/api/v1/auth/guest", json={})
    assert nameless.status == 201
    first = (await nameless.json())["me"]
    assert first == {"kind": "guest", "id": first["id"], "name": "", "memberships": []}
    token = (await nameless.json())["token"]
    named = await client.post(
        "/api/v1/auth/guest", json={"nickname": " Léa "}, headers={"Authorization": f"Bearer {token}"}
    )
    assert named.status == 201
    body = await named.json()
    assert body["me"] == {**first, "name": "Léa"}
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert await me.json() == {**first, "name": "Léa"}
    # Renewed without a nickname, the guest keeps the one they picked.
    again = await client.post("/api/v1/auth/guest", json={}, headers={"Authorization": f"Bearer {body['token']}"})
    assert (await again.json())["me"] == {**first, "name": "Léa"}


async def test_naming_a_guest_makes_nobody_new_so_the_limit_does_not_count_it(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock
) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path, guest_max_per_window=1, **backend), clock=clock))
    token = (await (await client.post("/api/v1/auth/guest", json={})).json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post("/api/v1/auth/guest", json={"nickname": "Lea"}, headers=headers)).status == 201
    await refused(await client.post("/api/v1/auth/guest", json={"nickname": "Tom"}), 429, "guest sign-ins")


async def test_a_staff_token_does_not_name_the_staff_account_as_a_guest(client, factory: Factory) -> None:
    await factory.brand()
    staff = await factory.staff("acme", "host")
    response = await client.post("/api/v1/auth/guest", json={"nickname": "Lea"}, headers=staff.headers)
    me = (await response.json())["me"]
    assert response.status == 201 and me["kind"] == "guest" and me["id"] != str(staff.id)


async def test_guests_cannot_do_staff_things(client, factory: Factory) -> None:
    await factory.brand()
    guest = await factory.guest()
    response = await client.get("/api/v1/brands/acme/shows", headers=guest)
    await refused(response, 403, "guests")


async def test_expired_tampered_and_missing_tokens_are_401(client, factory: Factory, clock: SettableClock) -> None:
    await factory.brand()
    staff = await factory.staff("acme", "manager")
    await refused(await client.get("/api/v1/brands/acme/shows"), 401, "this needs a bearer token: sign in first")
    await refused(await client.get("/api/v1/me"), 401, "this needs a bearer token: sign in first")
    tampered = staff.token[:-3] + ("aaa" if not staff.token.endswith("aaa") else "bbb")
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tampered}"})
    await refused(response, 401, "this token is not valid")
    response = await client.get("/api/v1/me", headers={"Authorization": f"Token {staff.token}"})
    await refused(response, 401, "use `Authorization: Bearer <token>`")
    clock.advance(hours=13)
    response = await client.get("/api/v1/me", headers=staff.headers)
    await refused(response, 401, "expired")


async def test_a_token_from_another_secret_is_refused(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], client, factory: Factory, clock: SettableClock
) -> None:
    await factory.brand()
    staff = await factory.staff("acme", "manager")
    other = make_settings(tmp_path, secret_key="another-secret-key-that-is-long-enough", **backend)
    other_client = await aiohttp_client(create_app(other, clock=clock))
    await refused(await other_client.get("/api/v1/me", headers=staff.headers), 401, "this token is not valid")


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
    await refused(
        await client.get("/api/v1/brands/acme/members", headers=outsider.headers), 403, "you have no role in this brand"
    )
    await refused(await client.get("/api/v1/brands/nope/members", headers=manager.headers), 404, "no brand 'nope'")
