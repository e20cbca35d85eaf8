"""Which browser pages may call Shopcast (HTTP and Socket.IO alike): its own address, from
SHOPCAST_PUBLIC_URL (or loopback when it serves there without one), and SHOPCAST_ALLOWED_ORIGINS.
Never from the Host header, which a DNS-rebinding page controls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import socketio

from shopcast.web.app import create_app
from tests.conftest import PostgresServer, SettableClock, fresh_database, make_settings
from tests.live_room import Viewer


@pytest.fixture
async def app(
    aiohttp_client: Any, tmp_path: Path, sqlite_template: Path, postgres_server: PostgresServer, clock: SettableClock
) -> Callable[..., Awaitable[Any]]:
    """The app (on SQLite: the origin rule is the same on every backend) with these settings."""

    async def make(**changes: Any) -> Any:
        url = await fresh_database("sqlite", tmp_path, sqlite_template, postgres_server)
        return await aiohttp_client(create_app(make_settings(tmp_path, database_url=url, **changes), clock=clock))

    return make


async def refused(client: Any, headers: dict[str, str], transport: str = "websocket") -> None:
    viewer = Viewer()
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await viewer.connect(client, None, headers=headers, transports=[transport])
    finally:
        if viewer.sio.eio.http is not None:  # the refused client's own HTTP session
            await viewer.sio.eio.http.close()


async def guest(client: Any, **headers: str) -> Any:
    return await client.post("/api/v1/auth/guest", json={"nickname": "Lea"}, headers=headers)


async def test_browsers_on_other_origins_are_refused_unless_allowed(app: Callable[..., Awaitable[Any]]) -> None:
    client = await app(allowed_origins="https://shop.example.com")
    evil = await guest(client, Origin="https://evil.test")
    assert evil.status == 403
    assert "SHOPCAST_ALLOWED_ORIGINS" in (await evil.json())["detail"]
    own_origin = f"http://{client.host}:{client.port}"
    own = await guest(client, Origin=own_origin)
    assert own.status == 201 and "Access-Control-Allow-Origin" not in own.headers
    shop = await guest(client, Origin="https://shop.example.com")
    assert shop.status == 201
    assert shop.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    refused = await client.get("/api/v1/nothing-here", headers={"Origin": "https://shop.example.com"})
    assert refused.headers["Vary"] == "Accept-Language, Cookie, Origin"  # its words and its CORS headers vary
    preflight = await client.options(
        "/api/v1/auth/guest",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204 and "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    denied = await client.options(
        "/api/v1/auth/guest", headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"}
    )
    assert denied.status == 403


@pytest.mark.parametrize("trust_forwarded_headers", [False, True])
async def test_a_page_that_rebinds_its_name_to_shopcast_is_refused(
    app: Callable[..., Awaitable[Any]], trust_forwarded_headers: bool
) -> None:
    # evil.example resolves to Shopcast's address now: the browser sends its own name as Host
    # (or the proxy passes it on as X-Forwarded-Host) and as Origin.
    client = await app(trust_forwarded_headers=trust_forwarded_headers)
    rebound = await guest(
        client, Origin="http://evil.example", Host="evil.example", **{"X-Forwarded-Host": "evil.example"}
    )
    assert rebound.status == 403
    detail = (await rebound.json())["detail"]
    assert detail.startswith("requests from http://evil.example are not allowed") and "SHOPCAST_PUBLIC_URL" in detail


async def test_on_loopback_without_a_public_url_the_pages_served_there_are_its_own(
    app: Callable[..., Awaitable[Any]],
) -> None:
    client = await app()
    for origin in (f"http://127.0.0.1:{client.port}", f"http://localhost:{client.port}"):
        response = await guest(client, Origin=origin)
        assert response.status == 201 and "Access-Control-Allow-Origin" not in response.headers
    # Another program on this machine is another origin.
    assert (await guest(client, Origin=f"http://127.0.0.1:{client.port + 1}")).status == 403
    assert (await guest(client, Origin=f"https://localhost:{client.port}")).status == 403


async def test_with_a_public_url_only_that_origin_is_its_own(app: Callable[..., Awaitable[Any]]) -> None:
    client = await app(public_url="https://Live.Example.com:443/shopcast/")
    own = await guest(client, Origin="https://live.example.com", Host="live.example.com")
    assert own.status == 201 and "Access-Control-Allow-Origin" not in own.headers
    assert (await guest(client, Origin="http://live.example.com")).status == 403
    # Loopback pages are someone else's once Shopcast has a public address.
    assert (await guest(client, Origin=f"http://127.0.0.1:{client.port}")).status == 403


async def test_socket_io_follows_the_same_origin_rule(app: Callable[..., Awaitable[Any]]) -> None:
    client = await app(public_url="https://live.example.com", allowed_origins="https://shop.test")
    rebound = {"Origin": "http://evil.example", "Host": "evil.example"}
    for transport in ("websocket", "polling"):  # the long-polling handshake is checked too
        await refused(client, rebound, transport)
    for origin in ("https://live.example.com", "https://shop.test", None):  # None: not a browser
        viewer = Viewer()
        await viewer.connect(client, None, headers={"Origin": origin} if origin else {})
        await viewer.sio.disconnect()


async def test_socket_io_on_loopback_takes_the_pages_served_there(app: Callable[..., Awaitable[Any]]) -> None:
    client = await app()
    viewer = Viewer()
    await viewer.connect(client, None, headers={"Origin": f"http://localhost:{client.port}"})
    await viewer.sio.disconnect()
    await refused(client, {"Origin": "http://evil.example", "Host": "evil.example"})
