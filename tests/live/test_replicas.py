"""Two app processes on one PostgreSQL, one Redis and one data folder: a WHEP viewer watches the show on
either, whichever process the host publishes to; a show whose host never comes back is ended once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection

from shopcast.core.db import Database, create_engine
from shopcast.core.security import Role
from shopcast.live.broadcasts import Broadcasts
from shopcast.live.network import offered_candidates
from shopcast.web.context import RESOURCES
from shopcast.web.origin_link import RELAY_AUDIENCE, RELAY_HEADER
from tests.chat.test_two_nodes import free_port
from tests.conftest import SECRET, PostgresServer, fresh_database, make_settings, serve_node, until_healthy
from tests.factories import Factory, Staff
from tests.live.broadcasting import SDP, broadcast_of, go_live, publish, status_of
from tests.live.test_hls import segments
from tests.live.webrtc_peers import Viewer, eventually, peer
from tests.problems import refused

LEASE = 1.5  # s: a process that stops renewing is noticed this long after
GRACE = 2.5  # s: what a host has to come back (long enough to publish again in a test)
LINGER = 0.3  # s: a process's pull outlives its last viewer this long
MINUTE = timedelta(minutes=1)


async def serve_process(port: int, data_dir: Path, shared: dict[str, Any]) -> asyncio.subprocess.Process:
    """`shopcast serve` as one app process (SHOPCAST_WORKERS=1, so that killing it kills the replica) on
    127.0.0.1:`port`, with the `shared` settings, WebRTC on loopback only."""
    env = {
        **os.environ,
        **{f"SHOPCAST_{name.upper()}": str(value) for name, value in shared.items()},
        "SHOPCAST_DATA_DIR": str(data_dir),
        "SHOPCAST_SECRET_KEY": SECRET,
        "SHOPCAST_ICE_SERVERS": "[]",
        "SHOPCAST_WEBRTC_HOSTS": "127.0.0.1",
        "SHOPCAST_WEBRTC_PEER_NETWORKS": "127.0.0.0/8",
        "SHOPCAST_OUTBOX_WORKER": "false",
        "SHOPCAST_WORKERS": "1",
    }
    command = [sys.executable, "-m", "shopcast", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.DEVNULL)


@dataclass
class Replica:
    client: TestClient

    @property
    def broadcasts(self) -> Broadcasts:
        return self.client.app[RESOURCES].broadcasts

    @property
    def name(self) -> str:
        """This process's name in Redis."""
        return self.broadcasts.origins.replica


@pytest.fixture
async def shared(
    tmp_path: Path, sqlite_template: Path, postgres_server: PostgresServer, redis_only_url: str, redis_prefix: str
) -> dict[str, Any]:
    """What the processes share: the database, Redis and (in make_settings) the data folder with HLS."""
    url = await fresh_database("postgresql", tmp_path, sqlite_template, postgres_server)
    return {
        "database_url": url,
        "redis_url": redis_only_url,
        "redis_prefix": redis_prefix,
        "origin_lease_seconds": LEASE,
        "publisher_grace_seconds": GRACE,
        "relay_linger_seconds": LINGER,
    }


@pytest.fixture
async def replicas(aiohttp_client: Any, tmp_path: Path, shared: dict[str, Any]) -> AsyncIterator[list[Replica]]:
    """Processes A and B, each reachable by the other at its own internal address (on the real clock:
    the processes' tokens to each other expire)."""
    started = []
    for _ in range(2):
        started.append(Replica(await serve_node(aiohttp_client, make_settings(tmp_path, **shared))))
    yield started
    for replica in started:
        await replica.client.close()


@pytest.fixture
async def factory(replicas: list[Replica], shared: dict[str, Any]) -> AsyncIterator[Factory]:
    database = Database(create_engine(shared["database_url"]))
    yield Factory(replicas[0].client, database, datetime.now(UTC))
    await database.close()


async def tomorrows_show(factory: Factory) -> tuple[Staff, str]:
    """A host and the id of their show's next episode, tomorrow evening."""
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    host = await factory.staff("acme", Role.HOST)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    show = await factory.show("acme", manager, first_episode_at=f"{tomorrow:%Y-%m-%d}T19:00", rrule="FREQ=WEEKLY")
    return host, (await factory.episodes(show["id"], manager))[0]["id"]


async def watch(client: Any, episode_id: str) -> tuple[Viewer, str]:
    """A viewer's WHEP session on `client`'s process; its connection and its session's address."""
    viewer = Viewer(peer())
    response = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    assert response.status == 201, await response.text()
    answer = await response.text()
    assert set(offered_candidates(answer)) == {"127.0.0.1"}
    await viewer.accept(answer)
    return viewer, response.headers["Location"]


async def pictures(viewer: Viewer, count: int = 3) -> None:
    """The viewer decodes `count` new pictures of the host's camera (640x480)."""
    frames = await viewer.frames("video", count)
    assert {(f.width, f.height) for f in frames} == {(640, 480)}


@dataclass
class Watched:
    """A show live from process A, watched on process B."""

    host: Staff
    episode_id: str
    host_pc: RTCPeerConnection
    viewer: Viewer
    session: str

    @property
    def episode(self) -> uuid.UUID:
        return uuid.UUID(self.episode_id)


async def watched_elsewhere(replicas: list[Replica], factory: Factory) -> Watched:
    """The host goes live on A and a viewer on B decodes their pictures."""
    a, b = replicas
    host, episode_id = await tomorrows_show(factory)
    host_pc, _ = await go_live(a.client, host, episode_id)
    viewer, session = await watch(b.client, episode_id)
    await pictures(viewer)
    return Watched(host, episode_id, host_pc, viewer, session)


async def test_viewers_on_another_process_watch_through_one_pull_which_stops_with_the_last(
    replicas: list[Replica], factory: Factory
) -> None:
    a, b = replicas
    show = await watched_elsewhere(replicas, factory)
    host, episode_id, episode, host_pc = show.host, show.episode_id, show.episode, show.host_pc
    first, first_session = show.viewer, show.session
    pulled = b.broadcasts.stats(episode)
    assert pulled is not None and pulled.pulling_from == a.name
    # The leg between the servers offered loopback candidates only, at both ends.
    assert pulled.pull_candidates and set(pulled.pull_candidates) == {"127.0.0.1"}

    second, second_session = await watch(b.client, episode_id)
    await pictures(second)
    assert b.broadcasts.stats(episode).pulls == 1
    assert a.broadcasts.stats(episode).relays == 1  # one stream between the processes for both viewers

    # The studio counts the viewers of both processes, whichever one it asks.
    for replica in (a, b):
        await eventually_true(lambda r=replica: viewers_seen(r, host, episode_id, 2))
    assert (await broadcast_of(b.client, host, episode_id))["on_air"] is True

    # Someone else cannot publish on B while the host is connected to A (the host themself could).
    intruder_pc, intruder = await publish(b.client, await factory.staff("acme", Role.HOST), episode_id)
    await refused(intruder, 409, "someone is already publishing")
    await intruder_pc.close()

    # HLS: B serves what A records, from the shared data folder.
    playlist = await playlist_on(b.client, episode_id)
    segment = await b.client.get(f"/live/{episode_id}/hls/{segments(playlist)[0]}")
    assert segment.status == 200 and segment.content_type == "video/mp2t"

    assert (await b.client.delete(first_session)).status == 200
    await first.pc.close()
    await pictures(second)  # the other viewer keeps watching
    assert (await b.client.delete(second_session)).status == 200
    await second.pc.close()
    await eventually(lambda: b.broadcasts.stats(episode) is None)  # B let the show go...
    await eventually(lambda: a.broadcasts.open_connections() == 1)  # ...and A's end of the pull: the host's is left
    await host_pc.close()


async def test_the_host_publishing_to_the_other_process_makes_it_the_origin(
    replicas: list[Replica], factory: Factory
) -> None:
    a, b = replicas
    show = await watched_elsewhere(replicas, factory)
    episode_id, episode, viewer_on_b = show.episode_id, show.episode, show.viewer

    await show.host_pc.close()  # the studio's network changed: it reconnects, and the proxy sends it to B
    host_on_b, _ = await go_live(b.client, show.host, episode_id)
    await eventually_true(lambda: origin_is(b, episode))
    await eventually(lambda: b.broadcasts.stats(episode).pulling_from is None)
    # B's viewer is fed from B's own host connection now, in the same session.
    delivered = b.broadcasts.stats(episode).deliveries["video"]
    await eventually(lambda: b.broadcasts.stats(episode).deliveries["video"] > delivered + 30)
    await pictures(viewer_on_b)
    assert viewer_on_b.pc.connectionState == "connected"
    await eventually(lambda: a.broadcasts.stats(episode) is None)  # A had no viewer left: it let go

    viewer_on_a, _ = await watch(a.client, episode_id)
    await pictures(viewer_on_a)
    assert a.broadcasts.stats(episode).pulling_from == b.name
    await asyncio.sleep(GRACE + LEASE)  # A's grace period for its old host connection is long over
    assert await status_of(b.client, episode_id) == "live"
    for pc in (viewer_on_a.pc, viewer_on_b.pc, host_on_b):
        await pc.close()


async def test_a_show_whose_origin_process_dies_is_ended_once_after_the_grace_period(
    aiohttp_client: Any, tmp_path: Path, shared: dict[str, Any]
) -> None:
    port = free_port()
    origin_url = f"http://127.0.0.1:{port}"
    origin = await serve_process(port, tmp_path / "data", shared)
    survivor = await serve_node(aiohttp_client, make_settings(tmp_path, **shared))
    database = Database(create_engine(shared["database_url"]))
    try:
        await until_healthy(origin_url)
        host, episode_id = await tomorrows_show(Factory(survivor, database, datetime.now(UTC)))
        async with aiohttp.ClientSession(origin_url) as http:
            host_pc, _ = await go_live(Client(http), host, episode_id)
        viewer, _ = await watch(survivor, episode_id)
        await pictures(viewer)

        bus = survivor.app[RESOURCES].bus
        async with bus.subscribe(f"episode:{episode_id}") as room:
            origin.send_signal(signal.SIGKILL)  # no goodbye: its lease lapses
            await origin.wait()
            async with asyncio.timeout(LEASE + GRACE + 20):
                while await status_of(survivor, episode_id) != "ended":  # noqa: ASYNC110 - the API is polled
                    await asyncio.sleep(0.2)
            await eventually(lambda: viewer.pc.connectionState == "closed")  # the survivor hung up on its viewer
            ended = [e for e in await drain(room) if e.event == "episode:ended"]
        assert len(ended) == 1
        assert survivor.app[RESOURCES].broadcasts.stats(uuid.UUID(episode_id)) is None
        await host_pc.close()
    finally:
        if origin.returncode is None:
            origin.kill()
            await origin.wait()
        await database.close()
        await survivor.close()


async def test_only_another_process_of_the_deployment_may_pull_a_show_and_only_from_its_origin(client) -> None:
    episode = uuid.uuid4()
    path = f"/live/{episode}/relay"
    viewer = Viewer(peer())
    offer = await viewer.offer()
    signer = client.app[RESOURCES].signer
    another_show = signer.sign_link(RELAY_AUDIENCE, uuid.uuid4(), MINUTE)
    for token in (None, "forged", another_show):
        headers = {**SDP, **({RELAY_HEADER: token} if token else {})}
        response = await client.post(path, data=offer, headers=headers)
        await refused(response, 401, "only another Shopcast server")
    token = {RELAY_HEADER: signer.sign_link(RELAY_AUDIENCE, episode, MINUTE)}
    await refused(await client.post(path, data=offer, headers={**SDP, **token}), 409, "does not hold the host's stream")
    await refused(await client.delete(f"{path}/whatever"), 401, "only another Shopcast server")
    await viewer.pc.close()


# --- helpers -----------------------------------------------------------------------------------------


class Client:
    """An aiohttp session at another process's address, used where the tests use the test client."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self._http = http

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        await response.read()
        return response

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self._call("POST", path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self._call("GET", path, **kwargs)


async def drain(room: Any) -> list[Any]:
    """The room's events heard so far, waiting a moment for any late one."""
    events = []
    while True:
        try:
            async with asyncio.timeout(LEASE):
                events.append(await anext(room))
        except TimeoutError:
            return events


async def origin_is(replica: Replica, episode: uuid.UUID) -> bool:
    origin = await replica.broadcasts.origins.find(episode)
    return origin is not None and origin.replica == replica.name


async def viewers_seen(replica: Replica, staff: Staff, episode_id: str, count: int) -> bool:
    return (await broadcast_of(replica.client, staff, episode_id))["viewers"] == count


async def eventually_true(check: Any, within: float = 20) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - the API is polled
            await asyncio.sleep(0.2)


async def playlist_on(client: Any, episode_id: str) -> str:
    async with asyncio.timeout(30):
        while True:
            response = await client.get(f"/live/{episode_id}/hls/index.m3u8")
            if response.status == 200 and segments(text := await response.text()):
                return text
            await asyncio.sleep(0.3)
