"""Rate limits follow the app's clock: a client slowed down gets back in once its window reopens,
told when by the refusal (the in-process limiter and Redis alike)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.db import Database
from shopcast.core.security import Role
from shopcast.web.app import create_app
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory
from tests.live_room import Viewer


async def refused(response: Any, reason: str, retry_after: int) -> None:
    body = await response.json()
    assert response.status == 429, body
    assert body["detail"] == f"too many {reason}; try again in {retry_after} s"
    assert body["retry_after"] == retry_after and response.headers["Retry-After"] == str(retry_after)


@pytest.fixture
async def connect(
    aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock, database: Database
) -> AsyncIterator[Callable[..., Awaitable[Viewer]]]:
    """A Socket.IO client of an app with these settings, as a guest or as staff of brand "acme"."""
    viewers: list[Viewer] = []

    async def connected(*, staff: bool = False, **changes: Any) -> Viewer:
        client = await aiohttp_client(create_app(make_settings(tmp_path, **changes, **backend), clock=clock))
        factory = Factory(client, database, clock.now())
        if staff:
            await factory.brand("acme")
            token = (await factory.staff("acme", Role.MODERATOR)).token
        else:
            token = (await factory.guest("Lea"))["Authorization"].removeprefix("Bearer ")
        viewer = Viewer()
        viewers.append(viewer)
        await viewer.connect(client, token)
        return viewer

    yield connected
    for viewer in viewers:
        await viewer.sio.disconnect()


async def test_a_viewer_sending_too_many_live_room_events_gets_back_in_as_the_allowance_refills(
    connect: Callable[..., Awaitable[Viewer]], clock: SettableClock
) -> None:
    lea = await connect(chat_event_burst=3, chat_events_per_second=0.5)
    episode = {"episode_id": str(uuid.uuid4())}  # unknown: each try still spends the allowance
    for _ in range(3):
        assert (await lea.call("leave", episode))["ok"]
    error = (await lea.call("leave", episode))["error"]
    assert error["status"] == 429 and error["retry_after"] == 2  # one event back every 2 s
    assert error["detail"] == "too many events: slow down, try again in 2 s"
    clock.advance(seconds=1.9)
    assert (await lea.call("leave", episode))["error"]["status"] == 429
    clock.advance(seconds=0.1)
    assert (await lea.call("leave", episode))["ok"]
    assert (await lea.call("leave", episode))["error"]["retry_after"] == 2
    clock.advance(seconds=60)  # a quiet minute refills the burst, not more
    assert [(await lea.call("leave", episode))["ok"] for _ in range(4)] == [True, True, True, False]


async def test_staff_get_a_larger_allowance_that_also_refills(
    connect: Callable[..., Awaitable[Viewer]], clock: SettableClock
) -> None:
    moderator = await connect(staff=True, chat_event_burst=1, chat_events_per_second=0.1)
    episode = {"episode_id": str(uuid.uuid4())}
    assert [(await moderator.call("leave", episode))["ok"] for _ in range(11)] == [True] * 10 + [False]
    clock.advance(seconds=1)  # ten times the rate: one event a second
    assert (await moderator.call("leave", episode))["ok"]


async def test_a_buyer_slowed_down_buys_again_a_minute_later(client, factory: Factory, clock: SettableClock) -> None:
    await factory.brand("acme")
    lea = await factory.guest("Lea")
    gone = f"/api/v1/brands/acme/cart/items/{uuid.uuid4()}"
    for _ in range(60):
        assert (await client.delete(gone, headers=lea)).status == 404
    await refused(await client.delete(gone, headers=lea), "cart changes", 60)
    clock.advance(seconds=59)
    await refused(await client.delete(gone, headers=lea), "cart changes", 1)
    clock.advance(seconds=1)
    assert (await client.delete(gone, headers=lea)).status == 404

    def order(key: str) -> Any:
        address = {"line1": "1 rue de Rivoli", "postal_code": "75001", "city": "Paris", "country": "FR"}
        body = {"email": "lea@example.com", "name": "Lea", "shipping": {"method": "delivery", "address": address}}
        return client.post("/api/v1/brands/acme/orders", json=body, headers={**lea, "Idempotency-Key": key})

    for n in range(10):
        response = await order(f"lea-{n}")
        assert response.status == 409, await response.text()  # an empty cart
    await refused(await order("lea-10"), "orders", 60)
    clock.advance(seconds=60)
    assert (await order("lea-11")).status == 409


async def test_a_client_asking_for_too_many_viewing_sessions_gets_back_in_a_minute_later(
    client, clock: SettableClock
) -> None:
    whep = f"/live/{uuid.uuid4()}/whep"
    for _ in range(30):
        assert (await client.post(whep, data="v=0", headers={"Content-Type": "text/plain"})).status == 415
    await refused(await client.post(whep, data="v=0", headers={"Content-Type": "text/plain"}), "viewing sessions", 60)
    clock.advance(seconds=60)
    assert (await client.post(whep, data="v=0", headers={"Content-Type": "text/plain"})).status == 415
