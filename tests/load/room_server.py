"""The app as the room fan-out benchmark runs it: `shopcast demo` on 127.0.0.1, one process.

    .venv/bin/python -m tests.load.room_server --port P [--delivery shopcast|stock]

Settings come from the environment as for `shopcast serve` (the benchmark sets SHOPCAST_DATA_DIR and
SHOPCAST_SECRET_KEY). `--delivery stock` swaps Shopcast's room delivery for python-socketio's own
(`sio.emit` to the room per event, engineio's WebSocket driver with per-message deflate), for
comparison only: it is not something the app can be configured to do. `GET /bench/delivery` tells
what the fan-out did (Shopcast's delivery only) and when CPython's full garbage collections paused
the process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from typing import Any

import socketio
from aiohttp import web

from shopcast.cli import _prepare
from shopcast.core.bus import Bus, Envelope, SubscriberTooSlow
from shopcast.core.settings import Settings
from shopcast.web import sockets
from shopcast.web.app import create_app
from shopcast.web.event_loop import new_event_loop
from shopcast.web.rooms import RoomHook


class StockLiveRooms:
    """Room delivery as python-socketio does it: one `sio.emit` to the room per event."""

    def __init__(self, sio: socketio.AsyncServer, bus: Bus, *, on_event: RoomHook | None = None) -> None:
        self._sio = sio
        self._bus = bus
        self._on_event = on_event
        self._following: dict[str, asyncio.Event] = {}
        self._last_seq: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def follow(self, room: str) -> None:
        ready = self._following.get(room)
        if ready is None:
            ready = self._following[room] = asyncio.Event()
            task = asyncio.create_task(self._relay(room, ready))
            self._tasks.add(task)
        await ready.wait()

    def rooms(self) -> list[str]:
        return list(self._following)

    def members(self, room: str) -> int:
        return len(self._sio.manager.rooms.get("/", {}).get(room, ()))

    async def emit_state(self, room: str, event: str, payload: dict[str, Any]) -> None:
        await self._sio.emit(event, {**payload, "seq": self._last_seq.get(room, 0)}, room=room)

    async def _relay(self, room: str, ready: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(SubscriberTooSlow):
                async with self._bus.subscribe(room) as events:
                    ready.set()
                    async for event in events:
                        await self._deliver(room, event)

    async def _deliver(self, room: str, event: Envelope) -> None:
        if event.seq == 0:
            await self.emit_state(room, event.event, event.payload)
            return
        self._last_seq[room] = max(self._last_seq.get(room, 0), event.seq)
        await self._sio.emit(event.event, {**event.payload, "seq": event.seq}, room=room)
        if self._on_event is not None:
            await self._on_event(room, event)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class CollectorPauses:
    """When CPython's full (generation 2) collections ran and for how long: they stop the event loop."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []  # (monotonic end, seconds)
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.monotonic()
        else:
            self.pauses.append((time.monotonic(), time.monotonic() - self._started))


PAUSES = CollectorPauses()


async def delivery_counts(request: web.Request) -> web.Response:
    rooms = request.app[sockets.LIVE_ROOMS]
    counts = getattr(rooms, "sockets", None)
    return web.json_response(
        {**(dataclasses.asdict(counts.counts) if counts is not None else {}), "full_collections": PAUSES.pauses}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delivery", choices=["shopcast", "stock"], default="shopcast")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    asyncio.run(_prepare(settings, demo=True))
    if options.delivery == "stock":
        sockets.LiveRooms = StockLiveRooms  # type: ignore[misc, assignment]
    app = create_app(settings)
    app.router.add_get("/bench/delivery", delivery_counts)

    def ready(*_: object) -> None:
        print(f"ready on 127.0.0.1:{options.port}", flush=True)

    loop = new_event_loop(settings.event_loop)
    web.run_app(app, host="127.0.0.1", port=options.port, backlog=4096, access_log=None, print=ready, loop=loop)


if __name__ == "__main__":
    main()
