"""The live room through the Node.js socket.io-client, the client browsers and apps use.

A reconnecting viewer on that client once got an event twice (in the join's `missed`, then live);
this drives the same client against a busy room: whatever a join's ack holds never arrives again,
and what follows it comes once, in seq order, on WebSocket and on long-polling.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from shopcast.core import tasks
from shopcast.web.context import RESOURCES
from tests.conftest import service_missing

CLIENT = Path(__file__).parents[1] / "clients" / "rejoining_viewer.mjs"
SOCKET_IO_CLIENT = Path(__file__).parents[2] / "node_modules" / "socket.io-client"
PASSING_STATE = ("presence:count", "chat:reactions")
VISITS = 12


def node() -> str:
    path = shutil.which("node")
    if path is None or not SOCKET_IO_CLIENT.is_dir():
        reason = RuntimeError("node or node_modules/socket.io-client missing: run `make test` (it runs npm ci)")
        service_missing("Node.js socket.io-client", reason)
    assert path is not None
    return path


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_node_client_coming_back_to_a_busy_room_gets_each_event_once(
    client, factory, episode, transport: str
) -> None:
    bus = client.app[RESOURCES].bus
    room = f"episode:{episode['id']}"
    token = (await factory.guest("Lea"))["Authorization"].removeprefix("Bearer ")

    async def busy_room() -> None:
        for n in itertools.count(1):
            # Chat waits for the room's tick; a pin goes at once, with whatever waited before it.
            await bus.publish(room, "pin:shown" if n % 9 == 0 else "chat:message", {"n": n})
            await asyncio.sleep(0.003)

    publisher = asyncio.create_task(busy_room())
    try:
        viewer = await asyncio.create_subprocess_exec(
            node(),
            str(CLIENT),
            str(client.make_url("/")),
            token,
            episode["id"],
            str(VISITS),
            "150",
            transport,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(120):
            out, err = await viewer.communicate()
    finally:
        await tasks.stop(publisher)  # one cancel is not always enough (shopcast/core/tasks.py)
    assert viewer.returncode == 0, err.decode()
    visits: list[list[Any]] = [json.loads(line) for line in out.decode().splitlines()]
    assert len(visits) == VISITS, err.decode()

    last_seq = None
    caught_up = heard_live = 0
    for heard in visits:
        (kind, ack), rest = heard[0], heard[1:]
        assert kind == "ack" and ack["ok"], heard[:2]  # nothing of the room before the ack
        if "missed" in ack:
            assert [e["seq"] for e in ack["missed"]] == list(range(last_seq + 1, ack["seq"] + 1))
            caught_up += len(ack["missed"])
        live = [data["seq"] for event, data in rest if event not in PASSING_STATE]
        assert live == list(range(ack["seq"] + 1, ack["seq"] + 1 + len(live))), (ack["seq"], live)
        last_seq = live[-1] if live else ack["seq"]
        heard_live += len(live)
    assert caught_up and heard_live
