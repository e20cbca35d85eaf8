"""Delivery of room events to this process's Socket.IO clients.

Each room a local client joined is followed on the bus once per process, and let go of when no
local client has been in it for `UNFOLLOW_AFTER_SECONDS`. A room's events are collected for a short
tick and flushed together, encoded once and written to every local client in the room
(`shopcast.web.fanout`); events that change what a viewer can do right now (a pinned product, stock,
a giveaway, the show's status) flush at once, with whatever was waiting before them. Events keep
their `seq` and their order; signals (seq 0, passing state such as tallies) and `emit_state` go out
the same way with the room's latest `seq` and are never logged. Other parts of the socket layer can
react to a room event (`on_event`), for example to remove a banned viewer's connections after the
room heard of the ban.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from shopcast.core.bus import Bus, Envelope, SubscriberTooSlow
from shopcast.web.fanout import Broadcast, LocalSockets, socketio_event

log = logging.getLogger(__name__)
RoomHook = Callable[[str, Envelope], Awaitable[None]]

TICK_SECONDS = 0.1
"""How long a room's events may wait to be sent together."""
URGENT_PREFIXES = ("pin:", "stock:", "deal:", "giveaway:", "episode:")
URGENT_EVENTS: frozenset[str] = frozenset()
"""Events outside `URGENT_PREFIXES` that must not wait for the tick either."""
UNFOLLOW_AFTER_SECONDS = 30.0
"""How long a room with no local client stays followed, for viewers who come straight back."""


def is_urgent(event: str) -> bool:
    return event.startswith(URGENT_PREFIXES) or event in URGENT_EVENTS


class _Room:
    """A followed room: its bus relay and the events waiting for the next flush."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ready = asyncio.Event()
        self.relay: asyncio.Task[None] | None = None
        self.last_seq = 0
        self.pending: list[bytes] = []
        self.heard: list[Envelope] = []  # flushed events still to pass to `on_event`
        self.timer: asyncio.TimerHandle | None = None
        self.empty_since: float | None = None


class LiveRooms:
    """Follows each joined room on the bus (once per process) and sends its events to the room."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        bus: Bus,
        *,
        on_event: RoomHook | None = None,
        tick_seconds: float = TICK_SECONDS,
        unfollow_after_seconds: float = UNFOLLOW_AFTER_SECONDS,
    ) -> None:
        self._sio = sio
        self._bus = bus
        self._on_event = on_event
        self.tick_seconds = tick_seconds
        """How long a room's events may wait to be sent together (tests and benchmarks change it)."""
        self.unfollow_after_seconds = unfollow_after_seconds
        """How long a room without local clients stays followed."""
        self.sockets = LocalSockets(sio.eio)
        self._rooms: dict[str, _Room] = {}
        self._heard: asyncio.Queue[tuple[str, Envelope]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._janitor: asyncio.Task[None] | None = None

    async def follow(self, room: str) -> None:
        """Return once this process hears the room's events."""
        state = self._rooms.get(room)
        if state is None:
            state = self._rooms[room] = _Room(room)
            state.relay = self._start(self._relay(state), f"room-{room}")
            if self._janitor is None:
                self._janitor = self._start(self._let_go_of_empty_rooms(), "rooms-janitor")
                if self._on_event is not None:
                    self._start(self._pass_heard_events(self._on_event), "room-hooks")
        state.empty_since = None  # a room just asked for is kept a full period at least
        await state.ready.wait()

    def rooms(self) -> list[str]:
        """The rooms this process follows."""
        return list(self._rooms)

    def members(self, room: str) -> int:
        """How many of this process's connections are in the room."""
        return len(self._sio.manager.rooms.get("/", {}).get(room, ()))

    async def emit_state(self, room: str, event: str, payload: dict[str, Any]) -> None:
        """Send passing state to this process's clients in the room, with the room's latest seq."""
        state = self._rooms.get(room)
        if state is None:  # not followed here: nobody joined it through this process
            if self.members(room):
                seq = await self._bus.last_seq(room)
                self._send(room, Broadcast([socketio_event(event, {**payload, "seq": seq})]))
            return
        self._take(state, Envelope(room, 0, event, payload))

    async def _relay(self, state: _Room) -> None:
        while True:
            try:
                async with self._bus.subscribe(state.name) as events:
                    # A signal heard before the room's next event still carries the room's seq.
                    state.last_seq = max(state.last_seq, await self._bus.last_seq(state.name))
                    state.ready.set()
                    async for event in events:
                        self._take(state, event)
            except SubscriberTooSlow:
                continue  # clients notice the gap in seq and catch up with `join`

    def _take(self, state: _Room, event: Envelope) -> None:
        if event.seq:
            state.last_seq = max(state.last_seq, event.seq)
            if self._on_event is not None:
                state.heard.append(event)
        seq = event.seq or state.last_seq
        state.pending.append(socketio_event(event.event, {**event.payload, "seq": seq}))
        if is_urgent(event.event):
            self._flush(state)
        elif state.timer is None:
            state.timer = asyncio.get_running_loop().call_later(self.tick_seconds, self._flush, state)

    def _flush(self, state: _Room) -> None:
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if state.pending:
            self._send(state.name, Broadcast(state.pending))
            state.pending = []
        for event in state.heard:
            self._heard.put_nowait((state.name, event))
        state.heard = []

    def _send(self, room: str, broadcast: Broadcast) -> None:
        members = self._sio.manager.rooms.get("/", {}).get(room)
        if members:
            for eio_sid in members.values():
                self.sockets.deliver(eio_sid, broadcast)

    async def _pass_heard_events(self, hook: RoomHook) -> None:
        while True:
            room, event = await self._heard.get()
            try:
                await hook(room, event)
            except Exception:
                log.exception("a room hook failed on %s", event.event)

    async def _let_go_of_empty_rooms(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(5.0, self.unfollow_after_seconds / 3))
            now = loop.time()
            for state in list(self._rooms.values()):
                if self.members(state.name) or not state.ready.is_set():
                    state.empty_since = None
                elif state.empty_since is None:
                    state.empty_since = now
                elif now - state.empty_since >= self.unfollow_after_seconds:
                    await self._unfollow(state)

    async def _unfollow(self, state: _Room) -> None:
        del self._rooms[state.name]
        if state.timer is not None:
            state.timer.cancel()
        if state.relay is not None:
            await _cancel(state.relay)

    def _start(self, coroutine: Any, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for state in self._rooms.values():
            if state.timer is not None:
                state.timer.cancel()
        for task in list(self._tasks):
            await _cancel(task)
        await self.sockets.close()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
