"""`shopcast serve --workers 2` as an operator runs it, on PostgreSQL and Redis: both workers answer on
the one port, a long-polling Socket.IO client works whichever worker its requests reach, chat crosses
between clients of different workers, a killed worker is started again, and SIGTERM stops them all;
a supervisor killed outright leaves no worker behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shopcast.accounts import service as accounts
from shopcast.core.db import Database, create_engine
from shopcast.core.security import Role
from tests.chat.test_two_nodes import PASSWORD, free_port, open_episode
from tests.conftest import SECRET, PostgresServer, fresh_database
from tests.live_room import Viewer, send

READY = re.compile(r"worker (\d+) ready \(pid (\d+), node (\w+)\)")
STOPPED = re.compile(r"worker (\d+) shopcast.web.server: stopped$")  # the end of a graceful stop


@dataclass
class Workers:
    """A running `shopcast serve --workers 2`: the supervisor, and its workers as its log names them."""

    url: str
    supervisor: asyncio.subprocess.Process
    ready: dict[int, tuple[int, str]] = field(default_factory=dict)  # index -> (pid, node), the latest
    news: asyncio.Condition = field(default_factory=asyncio.Condition)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=200))  # the latest lines, for failures

    async def read_log(self) -> None:
        assert self.supervisor.stderr is not None
        async for line in self.supervisor.stderr:  # the workers' log too: read all of it, always
            self.log.append(line.decode())
            if match := READY.search(self.log[-1]):
                async with self.news:
                    self.ready[int(match[1])] = (int(match[2]), match[3])
                    self.news.notify_all()

    async def stop(self) -> None:
        """SIGTERM to the supervisor, which must stop every worker and exit 0 within 30 s."""
        self.supervisor.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                assert await self.supervisor.wait() == 0
        except TimeoutError:
            pytest.fail("the workers did not stop within 30 s; the log ends:\n" + "".join(self.log))

    async def wait_ready(self, index: int, *, not_pid: int | None = None) -> tuple[int, str]:
        async with asyncio.timeout(60), self.news:
            await self.news.wait_for(lambda: index in self.ready and self.ready[index][0] != not_pid)
            return self.ready[index]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


async def staff(database_url: str) -> None:
    """The manager and moderator `open_episode` signs in as."""
    database = Database(create_engine(database_url))
    try:
        async with database.transaction() as session:
            now = datetime.now(UTC)
            brand = await accounts.create_brand(session, slug="acme", name="Acme", now=now)
            for role in (Role.MANAGER, Role.MODERATOR):
                await accounts.add_user(
                    session, email=f"{role}@acme.test", password=PASSWORD, role=role, brand=brand, now=now
                )
    finally:
        await database.close()


@pytest.fixture
async def workers(
    tmp_path: Path,
    sqlite_template: Path,
    postgres_server: PostgresServer,
    redis_only_url: str,
    redis_prefix: str,
) -> AsyncIterator[Workers]:
    database_url = await fresh_database("postgresql", tmp_path, sqlite_template, postgres_server)
    await staff(database_url)
    port = free_port()
    env = {
        **os.environ,
        "SHOPCAST_DATABASE_URL": database_url,
        "SHOPCAST_REDIS_URL": redis_only_url,
        "SHOPCAST_REDIS_PREFIX": redis_prefix,
        "SHOPCAST_SECRET_KEY": SECRET,
        "SHOPCAST_DATA_DIR": str(tmp_path / "data"),
        "SHOPCAST_ICE_SERVERS": "[]",
        "SHOPCAST_WEBRTC_HOSTS": "127.0.0.1",
    }
    supervisor = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shopcast", "serve", "--workers", "2", "--port", str(port),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    running = Workers(f"http://127.0.0.1:{port}", supervisor)
    reader = asyncio.create_task(running.read_log())
    try:
        for index in (0, 1):
            await running.wait_ready(index)
        yield running
    finally:
        if supervisor.returncode is None:
            supervisor.kill()
        for pid, _ in running.ready.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        # Python 3.11 returns from wait() once the process's pipes are closed too: its workers hold
        # its stderr, so they go first.
        async with asyncio.timeout(30):
            await supervisor.wait()
        reader.cancel()


async def nodes_answering(url: str, want: set[str]) -> set[str]:
    """The workers that answer on the port, asked on new connections until `want` have (the kernel
    spreads connections over the workers)."""
    seen: set[str] = set()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        for _ in range(100):
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 200, await response.text()
                seen.add(response.headers["Shopcast-Node"])
            if want <= seen:
                break
    return seen


async def test_workers_share_the_port_sessions_and_rooms_and_are_kept_running(workers: Workers) -> None:
    (pid0, node0), (pid1, node1) = workers.ready[0], workers.ready[1]
    assert await nodes_answering(workers.url, {node0, node1}) == {node0, node1}
    episode_id, tokens = await open_episode(workers.url)

    # Lea long-polls, each request on a new connection, so they reach either worker.
    answered: list[tuple[str, str | None]] = []

    async def on_answer(_session: Any, _context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        answered.append((params.response.headers["Shopcast-Node"], params.response.headers.get("Shopcast-Via")))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_answer)
    lea = Viewer()
    lea.sio.eio.http = http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True), trace_configs=[trace]
    )
    toms: list[Viewer] = []
    try:
        await lea.connect(workers.url, tokens["Lea"], transports=["polling"])
        assert (await lea.call("join", {"episode_id": episode_id}))["ok"]
        holder = lea.sio.eio.sid[:8]
        # Tom on WebSocket, on the other worker (connections land where the kernel sends them).
        while not toms or toms[-1].sio.eio.sid.startswith(holder):
            assert len(toms) < 30, "every WebSocket landed on the same worker"
            toms.append(Viewer())
            await toms[-1].connect(workers.url, tokens["Tom"])
        tom = toms[-1]
        assert (await tom.call("join", {"episode_id": episode_id}))["ok"]
        for n in range(5):
            sent = await send(lea, episode_id, f"from a long poll {n}")
            assert (await tom.wait_for("chat:message", message=sent))["message"]["text"] == f"from a long poll {n}"
        reply = await send(tom, episode_id, "from a WebSocket")
        assert (await lea.wait_for("chat:message", message=reply))["message"]["text"] == "from a WebSocket"
        # Every answer came from the worker holding Lea's session; some requests reached the other one.
        assert {node for node, _ in answered} == {holder}, answered
        assert any(via is not None and via != holder for _, via in answered), answered
    finally:
        await lea.sio.eio.disconnect(abort=True)
        await http.close()
        for viewer in toms:
            await viewer.sio.eio.disconnect(abort=True)

    # A worker killed outright is started again, with its socket: both answer again.
    os.kill(pid1, signal.SIGKILL)
    new_pid, new_node = await workers.wait_ready(1, not_pid=pid1)
    assert await nodes_answering(workers.url, {node0, new_node}) == {node0, new_node}

    # SIGTERM to every process at once, as systemd sends it, stops every worker gracefully: the
    # supervisor's own SIGTERM, coming second, does not cut a worker's stop short.
    for pid in (pid0, new_pid):
        os.kill(pid, signal.SIGTERM)
    await workers.stop()
    assert not alive(pid0) and not alive(new_pid)
    stopped = {match[1] for line in workers.log if (match := STOPPED.search(line))}
    assert stopped == {"0", "1"}, "".join(workers.log)


async def test_a_supervisor_killed_outright_leaves_no_worker_behind(workers: Workers) -> None:
    pids = [pid for pid, _ in workers.ready.values()]
    workers.supervisor.send_signal(signal.SIGKILL)
    async with asyncio.timeout(30):
        while any(alive(pid) for pid in pids):  # noqa: ASYNC110 - other processes' state is polled
            await asyncio.sleep(0.1)


async def test_a_long_poll_left_by_a_closed_tab_does_not_hold_the_stop(workers: Workers) -> None:
    """A tab closed while long-polling says goodbye (engine.io's CLOSE) and drops its pending poll;
    the server's side of that poll waits for engine.io's ping timeout, 45 s, and a stop used to wait
    for it, past the 10 s a container is given."""
    url = f"{workers.url}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with http.get(url) as response:
            assert response.status == 200
            sid = json.loads((await response.text())[1:])["sid"]
        poll = asyncio.create_task(http.get(f"{url}&sid={sid}"))
        await asyncio.sleep(0.5)  # the poll reaches the server and waits there
        async with http.post(f"{url}&sid={sid}", data="1") as response:  # CLOSE
            assert response.status == 200
        poll.cancel()  # the tab is gone
        with contextlib.suppress(asyncio.CancelledError):
            await poll
    await workers.stop()
