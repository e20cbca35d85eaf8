"""Delivery of room events to this process's Socket.IO clients.

Each room a local client joined is followed on the bus once per process. Events keep their
`seq`; signals (seq 0, passing state such as tallies) go out with the room's latest `seq` and are
never logged. Other parts of the socket layer can react to a room event (`on_event`), for example
to remove a banned viewer's connections after the room heard of the ban.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from shopcast.core.bus import Bus, Envelope, SubscriberTooSlow

log = logging.getLogger(__name__)
RoomHook = Callable[[str, Envelope], Awaitable[None]]


class LiveRooms:
    """Follows each joined room on the bus (once per process) and emits its events to the room."""

    def __init__(self, sio: socketio.AsyncServer, bus: Bus, *, on_event: RoomHook | None = None) -> None:
        self._sio = sio
        self._bus = bus
        self._on_event = on_event
        self._following: dict[str, asyncio.Event] = {}
        self._last_seq: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def follow(self, room: str) -> None:
        """Return once this process hears the room's events."""
        ready = self._following.get(room)
        if ready is None:
            ready = self._following[room] = asyncio.Event()
            task = asyncio.create_task(self._relay(room, ready), name=f"room-{room}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await ready.wait()

    def rooms(self) -> list[str]:
        """The rooms this process follows."""
        return list(self._following)

    def members(self, room: str) -> int:
        """How many of this process's connections are in the room."""
        return len(self._sio.manager.rooms.get("/", {}).get(room, ()))

    async def emit_state(self, room: str, event: str, payload: dict[str, Any]) -> None:
        """Send passing state to this process's clients in the room, with the room's latest seq."""
        await self._sio.emit(event, {**payload, "seq": self._last_seq.get(room, 0)}, room=room)

    async def _relay(self, room: str, ready: asyncio.Event) -> None:
        while True:
            try:
                async with self._bus.subscribe(room) as events:
                    ready.set()
                    async for event in events:
                        await self._deliver(room, event)
            except SubscriberTooSlow:
                continue  # clients notice the gap in seq and catch up with `join`

    async def _deliver(self, room: str, event: Envelope) -> None:
        if event.seq == 0:
            await self.emit_state(room, event.event, event.payload)
            return
        self._last_seq[room] = max(self._last_seq.get(room, 0), event.seq)
        await self._sio.emit(event.event, {**event.payload, "seq": event.seq}, room=room)
        if self._on_event is not None:
            try:
                await self._on_event(room, event)
            except Exception:
                log.exception("a room hook failed on %s", event.event)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
