"""Going live and watching through the app's WHIP/WHEP routes, and what a broadcast holds meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription

from shopcast.core.security import Role
from shopcast.web.context import RESOURCES
from tests.factories import Factory, Staff
from tests.live.webrtc_peers import eventually, peer, publisher_offer

SDP = {"Content-Type": "application/sdp"}


@dataclass(frozen=True)
class Cast:
    """A brand's weekly show: its manager, its host and its coming episodes (ids, soonest first)."""

    manager: Staff
    host: Staff
    episodes: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self.episodes]


async def weekly_show(factory: Factory, brand: str = "acme") -> Cast:
    await factory.brand(brand)
    manager = await factory.staff(brand, Role.MANAGER)
    host = await factory.staff(brand, Role.HOST)
    show = await factory.show(brand, manager)
    return Cast(manager, host, await factory.episodes(show["id"], manager))


async def publish(client: Any, host: Staff, episode_id: str, **offer: Any) -> tuple[RTCPeerConnection, Any]:
    """The host's WHIP request with a real aiortc offer (`audio=False` for video only)."""
    pc = peer()
    response = await client.post(
        f"/live/{episode_id}/whip", data=await publisher_offer(pc, **offer), headers={**SDP, **host.headers}
    )
    return pc, response


async def go_live(client: Any, host: Staff, episode_id: str, **offer: Any) -> tuple[RTCPeerConnection, str]:
    """Publish, connect and wait until the episode is on air; returns the host's connection and session."""
    pc, response = await publish(client, host, episode_id, **offer)
    assert response.status == 201, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    await eventually(lambda: pc.connectionState == "connected")
    async with asyncio.timeout(20):
        while not (await broadcast_of(client, host, episode_id))["on_air"]:  # noqa: ASYNC110 - the API is polled
            await asyncio.sleep(0.05)
    assert await status_of(client, episode_id) == "live"
    return pc, response.headers["Location"]


async def status_of(client: Any, episode_id: str) -> str:
    return (await (await client.get(f"/api/v1/public/episodes/{episode_id}")).json())["status"]


async def broadcast_of(client: Any, staff: Staff, episode_id: str) -> dict[str, Any]:
    """What the studio shows: `{on_air, publisher_connected, viewers}`."""
    response = await client.get(f"/api/v1/episodes/{episode_id}/broadcast", headers=staff.headers)
    assert response.status == 200, await response.text()
    return await response.json()


def _stream_sockets() -> set[str]:
    """TCP and Unix sockets: the test client's keep-alive connections and the database's come and go."""
    inodes = set()
    for table in ("tcp", "tcp6", "unix"):
        with open(f"/proc/net/{table}") as lines:
            next(lines)
            inodes.update(f"socket:[{line.split()[9 if table != 'unix' else 6]}]" for line in lines)
    return inodes


_DATABASE_FILE = re.compile(r"\.db(-wal|-shm|-journal)?$")


def _open_files() -> list[str]:
    """What this process has open but stream sockets: files, pipes and UDP sockets (WebRTC's)."""
    opened = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):
            opened.append(os.readlink(f"/proc/self/fd/{fd}"))
    streams = _stream_sockets()
    # SQLite's pool opens the database file (and its -wal, -shm) once per pooled connection, as
    # load asks: like its threads, they come and go with the load, not with WebRTC sessions.
    return [name for name in opened if name not in streams and not _DATABASE_FILE.search(name)]


@dataclass(frozen=True)
class Holdings:
    """What the process holds that a forgotten session would keep: connections, tasks, threads, files."""

    connections: int
    tasks: int
    threads: tuple[str, ...]
    open_files: tuple[str, ...]

    @classmethod
    def now(cls, client: Any) -> Holdings:
        # asyncio's executor keeps idle workers for later calls, and SQLite's pool a thread per
        # connection (aiosqlite): they come and go with the load, not with WebRTC sessions.
        threads = sorted(
            t.name
            for t in threading.enumerate()
            if not t.name.startswith("asyncio_") and not t.name.endswith("(_connection_worker_thread)")
        )
        return cls(
            connections=client.app[RESOURCES].broadcasts.open_connections(),
            # The Redis bus starts its one listener with the first subscription, for the app's lifetime.
            tasks=sum(t.get_name() != "shopcast-bus-listener" for t in asyncio.all_tasks()),
            threads=tuple(threads),
            open_files=tuple(sorted(_open_files())),
        )

    def within(self, baseline: Holdings) -> bool:
        return (
            self.connections <= baseline.connections
            and self.tasks <= baseline.tasks
            and len(self.threads) <= len(baseline.threads)
            and len(self.open_files) <= len(baseline.open_files)
        )


async def released(client: Any, baseline: Holdings, *, within: float = 20) -> None:
    """Wait until the process holds no more than `baseline`; fail naming what it kept."""
    try:
        await eventually(lambda: Holdings.now(client).within(baseline), within=within)
    except TimeoutError:
        now = Holdings.now(client)
        files = sorted(set(now.open_files) - set(baseline.open_files))
        raise AssertionError(
            f"still held: {now.connections} connections, {now.tasks} tasks, threads {now.threads}, "
            f"{len(now.open_files)} files ({files} new); before: {baseline}"
        ) from None
