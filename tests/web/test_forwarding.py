"""Two app processes on one Redis, as workers or replicas behind a proxy without sticky sessions: a
request for a session the other one holds (a long poll, a WebSocket upgrade, a WebRTC session's
DELETE) reaches it and is answered as if it had gone there."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from shopcast.core.security import Role
from shopcast.core.settings import Settings
from shopcast.web.forwarding import FORWARDER
from tests.conftest import SettableClock, make_settings, serve_node
from tests.factories import Factory
from tests.live.broadcasting import SDP, go_live, status_of, weekly_show
from tests.live.webrtc_peers import Viewer as WebRtcViewer
from tests.live.webrtc_peers import peer
from tests.live_room import Viewer, send
from tests.problems import refused


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_only_url: str, redis_prefix: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url, redis_url=redis_only_url, redis_prefix=redis_prefix)


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, clock: SettableClock) -> AsyncIterator[TestClient]:
    """Process A: the one sessions are opened on."""
    node = await serve_node(aiohttp_client, settings, clock)
    yield node
    await node.close()


@pytest.fixture
async def other(
    aiohttp_client: Any, settings: Settings, clock: SettableClock, tmp_path: Path
) -> AsyncIterator[TestClient]:
    """Process B: where later requests of those sessions land."""
    node = await serve_node(aiohttp_client, settings.model_copy(update={"data_dir": tmp_path / "b"}), clock)
    yield node
    await node.close()


def node_id(node: TestClient) -> str:
    return node.app[FORWARDER].nodes.id


async def live_episode(client: TestClient, factory: Factory) -> str:
    await factory.brand("acme")
    host = await factory.staff("acme", Role.HOST)
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    episode_id = (await factory.episodes(show["id"], manager))[0]["id"]
    assert (await client.post(f"/api/v1/episodes/{episode_id}/start", headers=host.headers)).status == 200
    return episode_id


async def test_a_long_polling_session_goes_on_through_another_process(
    client: TestClient, other: TestClient, factory: Factory
) -> None:
    episode_id = await live_episode(client, factory)
    answered: list[tuple[str | None, str | None]] = []

    async def on_answer(_session: Any, _context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        answered.append((params.response.headers.get("Shopcast-Node"), params.response.headers.get("Shopcast-Via")))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_answer)
    lea, tom = Viewer(), Viewer()
    lea.sio.eio.http = http = aiohttp.ClientSession(trace_configs=[trace])
    try:
        await lea.connect(client, (await factory.guest("Lea"))["Authorization"][7:], transports=["polling"])
        assert (await lea.call("join", {"episode_id": episode_id}))["ok"]
        # From here each of Lea's polls and posts reaches process B, which holds nothing of hers.
        lea.sio.eio.base_url = lea.sio.eio.base_url.replace(f":{client.port}/", f":{other.port}/")
        answered.clear()
        await tom.connect(other, (await factory.guest("Tom"))["Authorization"][7:])
        assert (await tom.call("join", {"episode_id": episode_id}))["ok"]

        sent = await send(lea, episode_id, "hello from a long poll")
        assert (await tom.wait_for("chat:message"))["message"]["id"] == sent["id"]
        reply = await send(tom, episode_id, "hello back")
        assert (await lea.wait_for("chat:message", message=reply))["message"]["text"] == "hello back"
        # Every answer came from A; Lea's polls and posts since the switch came through B (one poll
        # may have been sent to A before it).
        assert {node for node, _ in answered} == {node_id(client)}, answered
        assert [via for _, via in answered].count(node_id(other)) >= 3, answered
    finally:
        await lea.sio.eio.disconnect(abort=True)  # not waiting for the last long poll
        await tom.sio.disconnect()
        await http.close()


async def test_a_polling_session_upgrades_to_websocket_through_another_process(
    client: TestClient, other: TestClient, factory: Factory
) -> None:
    episode_id = await live_episode(client, factory)
    token = (await factory.guest("Lea"))["Authorization"][7:]
    path = "/socket.io/?EIO=4&transport="
    async with aiohttp.ClientSession() as http:
        # The Engine.IO handshake and the Socket.IO connect, polling, on A.
        opened = await (await http.get(client.make_url(f"{path}polling"))).text()
        sid = json.loads(opened[1:])["sid"]
        polling = f"{path}polling&sid={sid}"
        assert (await http.post(client.make_url(polling), data="40" + json.dumps({"token": token}))).status == 200
        assert (await (await http.get(client.make_url(polling))).text()).startswith("40")
        # The upgrade reaches B.
        async with http.ws_connect(other.make_url(f"{path}websocket&sid={sid}")) as ws:
            await ws.send_str("2probe")
            assert await ws.receive_str(timeout=10) == "3probe"
            await ws.send_str("5")
            await ws.send_str("421" + json.dumps(["join", {"episode_id": episode_id}]))
            while not (answer := await ws.receive_str(timeout=10)).startswith("431"):
                pass  # pings and room state may come first
            assert json.loads(answer[3:])[0]["ok"] is True


async def test_a_webrtc_session_ends_through_another_process(
    client: TestClient, other: TestClient, factory: Factory
) -> None:
    cast = await weekly_show(factory)
    episode_id = cast.ids[0]
    host_pc, whip_session = await go_live(client, cast.host, episode_id)
    viewer = WebRtcViewer(peer())
    try:
        watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
        assert watched.status == 201, await watched.text()
        left = await other.delete(watched.headers["Location"])
        assert left.status == 200
        assert (left.headers["Shopcast-Node"], left.headers["Shopcast-Via"]) == (node_id(client), node_id(other))
        await refused(await other.delete(watched.headers["Location"]), 404, "no such viewing session")
        ended = await other.delete(whip_session, headers=cast.host.headers)
        assert ended.status == 200
        assert await status_of(client, episode_id) == "ended"
    finally:
        await viewer.pc.close()
        await host_pc.close()


async def test_the_internal_listener_takes_requests_from_app_processes_only(client: TestClient) -> None:
    internal = f"http://127.0.0.1:{client.internal_port}/healthz"  # type: ignore[attr-defined]
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Shopcast-Relay": "guessed", "Shopcast-Relay-For": "203.0.113.7"}):
            async with http.get(internal, headers=headers) as response:
                assert response.status == 403
                assert "only Shopcast's own app processes" in await response.text()
        assert (await client.get("/healthz")).status == 200  # the public port, as ever
