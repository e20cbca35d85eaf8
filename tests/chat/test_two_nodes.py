"""Two `shopcast serve` processes sharing rooms through Redis and PostgreSQL, as behind a proxy."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import SECRET, PostgresServer, fresh_database, until_healthy
from tests.live_room import Viewer, send

PASSWORD = "two-nodes-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def shopcast(*args: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shopcast", *args, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await asyncio.wait_for(process.wait(), 60) == 0


@dataclass
class Node:
    url: str
    process: asyncio.subprocess.Process


@pytest.fixture
async def nodes(
    tmp_path: Path,
    sqlite_template: Path,
    postgres_server: PostgresServer,
    redis_only_url: str,
    redis_prefix: str,
    node_environment: dict[str, str],
) -> AsyncIterator[list[Node]]:
    """Two app processes on one PostgreSQL database and one Redis."""
    env = {
        **os.environ,
        "SHOPCAST_DATABASE_URL": await fresh_database("postgresql", tmp_path, sqlite_template, postgres_server),
        "SHOPCAST_REDIS_URL": redis_only_url,
        "SHOPCAST_REDIS_PREFIX": redis_prefix,
        "SHOPCAST_SECRET_KEY": SECRET,
        "SHOPCAST_WORKERS": "1",  # each `shopcast serve` one process, as one replica on one core
        "SHOPCAST_ICE_SERVERS": "[]",
        "SHOPCAST_WEBRTC_HOSTS": "127.0.0.1",
        "SHOPCAST_CHAT_EVENTS_PER_SECOND": "100",
        "SHOPCAST_CHAT_EVENT_BURST": "100",
        **node_environment,
    }
    for role in ("manager", "moderator"):
        await shopcast(
            "user", "add", "--email", f"{role}@acme.test", "--role", role, "--password", PASSWORD, "--brand", "acme",
            env={**env, "SHOPCAST_DATA_DIR": str(tmp_path / "cli")},
        )  # fmt: skip
    processes, urls = [], []
    for n in range(2):
        port = free_port()
        node_env = {**env, "SHOPCAST_DATA_DIR": str(tmp_path / f"node{n}")}
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shopcast", "serve", "--host", "127.0.0.1", "--port", str(port), env=node_env
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        await until_healthy(*urls)
        yield [Node(url, process) for url, process in zip(urls, processes, strict=True)]
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await asyncio.wait_for(process.wait(), 30)


async def api(http: aiohttp.ClientSession, method: str, url: str, token: str | None = None, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body or None, headers=headers) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def open_episode(url: str, start_url: str | None = None) -> tuple[str, dict[str, str]]:
    """A live episode planned through `url` (started through `start_url`), and tokens for the
    manager, the moderator and guests Lea and Tom."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    async with aiohttp.ClientSession() as http:
        tokens = {}
        for role in ("manager", "moderator"):
            login = await api(http, "POST", f"{url}/api/v1/auth/login", email=f"{role}@acme.test", password=PASSWORD)
            tokens[role] = login["token"]
        show = await api(
            http, "POST", f"{url}/api/v1/brands/acme/shows", tokens["manager"],
            title="Tuesday live", time_zone="Europe/Paris", first_episode_at=f"{tomorrow:%Y-%m-%d}T19:00",
        )  # fmt: skip
        start_url = start_url or url
        episodes = await api(http, "GET", f"{start_url}/api/v1/shows/{show['id']}/episodes", tokens["manager"])
        episode_id = episodes[0]["id"]
        await api(http, "POST", f"{start_url}/api/v1/episodes/{episode_id}/start", tokens["manager"])
        for name in ("Lea", "Tom"):
            tokens[name] = (await api(http, "POST", f"{url}/api/v1/auth/guest", nickname=name))["token"]
    return episode_id, tokens


async def test_the_count_covers_every_process_and_forgets_one_that_died(nodes: list[Node]) -> None:
    a, b = nodes
    episode_id, tokens = await open_episode(a.url)
    lea, tom = Viewer(), Viewer()

    async def viewers_now(node: Node, expected: int) -> None:
        """The audience says `expected` viewers now, once the processes have reported (each second)."""
        path = f"/api/v1/episodes/{episode_id}/audience"
        async with aiohttp.ClientSession() as http, asyncio.timeout(10):
            while True:
                audience = await api(http, "GET", f"{node.url}{path}", tokens["manager"])
                if audience["viewers_now"] == expected:
                    return
                await asyncio.sleep(0.2)

    try:
        await tom.connect(b.url, tokens["Tom"])
        assert (await tom.call("join", {"episode_id": episode_id}))["ok"]
        await viewers_now(a, 1)  # asked of a process without a viewer of its own in the room
        await lea.connect(a.url, tokens["Lea"])
        assert (await lea.call("join", {"episode_id": episode_id}))["ok"]
        await lea.wait_for("presence:count", viewers=2)
        b.process.send_signal(signal.SIGKILL)  # no shutdown: nothing of b's is cleaned up
        assert await b.process.wait() == -signal.SIGKILL
        # Within seconds: b's last count grows older than the staleness limit (5 s).
        await lea.wait_for("presence:count", viewers=1)
        await viewers_now(a, 1)
    finally:
        await lea.sio.disconnect()
        await tom.sio.eio.disconnect(abort=True)


async def test_two_processes_share_the_room_order_counts_and_bans(nodes: list[Node]) -> None:
    a, b = (node.url for node in nodes)
    viewers: list[Viewer] = []

    async def connect(url: str, token: str, episode_id: str) -> Viewer:
        viewer = Viewer()
        viewers.append(viewer)
        await viewer.connect(url, token)
        viewer.token = token
        viewer.ack = await viewer.call("join", {"episode_id": episode_id})
        assert viewer.ack["ok"], viewer.ack
        return viewer

    episode_id, tokens = await open_episode(a, b)  # planned on one process, started on the other
    try:
        lea = await connect(a, tokens["Lea"], episode_id)
        tom = await connect(b, tokens["Tom"], episode_id)
        moderator = await connect(b, tokens["moderator"], episode_id)

        # A message sent on one process reaches the other in the same order with the same seq.
        sent = [await send(lea, episode_id, f"message {n}") for n in range(20)]
        heard_a = [await lea.wait_for("chat:message") for _ in sent]
        heard_b = [await tom.wait_for("chat:message") for _ in sent]
        assert [h["message"]["id"] for h in heard_b] == [m["id"] for m in sent]
        assert [h["seq"] for h in heard_b] == [h["seq"] for h in heard_a]
        assert [h["seq"] for h in heard_b] == sorted({h["seq"] for h in heard_b})

        # The viewer count adds both processes (the moderator is staff: not a viewer).
        await lea.wait_for("presence:count", viewers=2)
        await tom.wait_for("presence:count", viewers=2)

        # A ban given on one process applies on the other.
        ban = {"episode_id": episode_id, "message_id": sent[0]["id"], "reason": "spam"}
        ack = await moderator.call("chat:ban", ban)
        assert ack["ok"], ack
        assert (await lea.wait_for("chat:viewer-removed"))["ref"] == lea.ack["snapshot"]["you"]["ref"]
        banned = {"status": 403, "detail": "you are banned from this brand's chats: spam"}
        for event, data in (("chat:send", {"text": "still here"}), ("join", {})):
            refused = await lea.call(event, {"episode_id": episode_id, **data})
            assert refused["ok"] is False, refused
            assert {k: refused["error"][k] for k in banned} == banned, refused
        await tom.wait_for("presence:count", viewers=1)  # Lea is out of the room
    finally:
        for viewer in viewers:
            await viewer.sio.disconnect()
