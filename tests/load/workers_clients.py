"""The load-client processes of the workers benchmark (tests/load/workers.py).

- `http`: keep-alive connections asking for the live episode's public page data, as fast as answered.
- `joins`: viewers on raw WebSockets (`socketio_wire`), each opening, connecting without a token and
  joining the episode's room, at most AT_ONCE at a time; they stay in the room until `release`.
- `polls`: a Socket.IO session on long-polling, every request on a new connection (so on either
  worker), timing round trips of an event and its ack, apart for requests passed on to another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import orjson

from tests.load.harness import child_process, run_commands
from tests.load.socketio_wire import RawViewer

MAX_MS = 10_000  # latencies are counted per millisecond up to here
AT_ONCE = 50


def histogram(latencies_ms: list[float]) -> list[int]:
    counts = [0] * (MAX_MS + 1)
    for ms in latencies_ms:
        counts[min(MAX_MS, int(ms))] += 1
    return counts


class Clients:
    def __init__(self) -> None:
        self._viewers: list[RawViewer] = []

    async def http(self, url: str, connections: int, seconds: float) -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        deadline = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one() -> None:
                nonlocal errors
                while time.monotonic() < deadline:
                    start = time.monotonic()
                    async with session.get(url) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                    latencies.append((time.monotonic() - start) * 1000)

            await asyncio.gather(*(one() for _ in range(connections)))
        return {"count": len(latencies), "errors": errors, "histogram": histogram(latencies)}

    async def joins(self, port: int, episode_id: str, viewers: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(AT_ONCE)
        latencies: list[float] = []
        failed: list[str] = []
        began = time.monotonic()

        async def one() -> None:
            async with gate:
                start = time.monotonic()
                try:
                    viewer = await RawViewer.open("127.0.0.1", port)
                    self._viewers.append(viewer)
                    viewer.send(b"40")  # no token: a viewer who watches
                    if not (await viewer.receive()).startswith("40"):
                        raise ConnectionError("Socket.IO connect refused")
                    ack = await viewer.call("join", {"episode_id": episode_id})
                    if not ack.get("ok"):
                        raise ConnectionError(str(ack)[:200])
                except (OSError, ConnectionError) as exc:
                    failed.append(f"{type(exc).__name__}: {exc}")
                    return
                latencies.append((time.monotonic() - start) * 1000)

        await asyncio.gather(*(one() for _ in range(viewers)))
        return {
            "joined": len(latencies),
            "failed": failed[:5],
            "seconds": time.monotonic() - began,
            "histogram": histogram(latencies),
        }

    async def release(self) -> None:
        for viewer in self._viewers:
            viewer.close()
        self._viewers.clear()

    async def stop(self) -> None:
        await self.release()

    async def polls(self, base: str, rounds: int) -> dict[str, Any]:
        """Round trips (`ping`, acked as an unknown event), timed apart when a request of theirs was passed on
        to the other worker."""
        times: dict[str, list[float]] = {"direct": [], "passed on": []}
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            address = f"{base}/socket.io/?EIO=4&transport=polling"
            async with session.get(address) as opened:
                sid = orjson.loads((await opened.read())[1:])["sid"]
            address += f"&sid={sid}"
            async with session.post(address, data=b"40"):
                pass
            async with session.get(address) as connected:
                await connected.read()
            for number in range(1, rounds + 1):
                start = time.monotonic()
                async with session.post(address, data=b"42" + str(number).encode() + b'["ping",{}]') as sent:
                    passed_on = "Shopcast-Via" in sent.headers
                while True:
                    async with session.get(address) as answer:
                        body = await answer.read()
                        passed_on = passed_on or "Shopcast-Via" in answer.headers
                    if f"43{number}[".encode() in body:
                        break
                times["passed on" if passed_on else "direct"].append((time.monotonic() - start) * 1000)
            with contextlib.suppress(aiohttp.ClientError):
                async with session.post(address, data=b"1"):
                    pass
        return {kind: histogram(values) for kind, values in times.items()}


def child_main(conn: Connection, parent: int, lifetime: float) -> None:
    """A spawned load-client process: runs the parent's commands until `stop`."""
    child_process(parent, lifetime)
    asyncio.run(run_commands(conn, Clients()))
    os._exit(0)
