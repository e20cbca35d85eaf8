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

A client joining gets each event once (`entering`): what the room flushes while its join is being
answered waits for it, and once the ack says which `seq` it covers (the missed events, or the
snapshot's), the client gets only what comes after, right after the ack. Until the room has sent
past that `seq` (a batch that was pending at the join, events still on their way from the bus), that
client alone gets a trimmed copy of each flush; everyone else gets the same encoded one. A join
answered with a snapshot read a moment earlier (shared by the viewers joining meanwhile,
web/room_snapshots.py) covers less than the room already sent: the room keeps what it flushed for
`REPLAY_SECONDS`, and the client gets the events after its snapshot's `seq` that were sent before it
came in, right after its ack and before the rest (`replays_after` tells whether a snapshot is still
recent enough for that). A join refused inside `entering` takes the client back out of the room,
with nothing sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import socketio

from shopcast.core import tasks
from shopcast.core.bus import Bus, Envelope, SubscriberTooSlow
from shopcast.core.errors import Busy
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
REPLAY_SECONDS = 10.0
"""How long a room keeps the events it sent, for joins answered with a snapshot read before them."""
REPLAY_MOST = 2000
"""The most events a room keeps for that."""
RELAY_RETRY_SECONDS = 1.0
"""How long a room whose bus failed (Redis gone for a moment) waits before following it again."""
FOLLOW_WAIT_SECONDS = 5.0
"""How long a join waits for its room to be followed before it is told to come back (503 busy)."""


def is_urgent(event: str) -> bool:
    return event.startswith(URGENT_PREFIXES) or event in URGENT_EVENTS


# A room event ready to go: the seq it was logged with (0 for passing state, never trimmed) and its packet.
Packet = tuple[int, bytes]


@dataclass
class Entry:
    """A client's join under way: the room's events held for it until its ack is out."""

    held: list[Packet] = field(default_factory=list)
    seq: int = 0
    """The last seq the join's ack covers (set by the join); nothing up to it is sent again."""
    sent_before: int = 0
    """The seq of the last event the room sent before the client came in: those after `seq` up to
    it are replayed to the client."""


class _Room:
    """A followed room: its bus relay and the events waiting for the next flush."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ready = asyncio.Event()
        self.relay: asyncio.Task[None] | None = None
        self.last_seq = 0
        self.sent_seq = 0  # the seq of the last logged event flushed
        self.pending: list[Packet] = []
        self.heard: list[Envelope] = []  # flushed events still to pass to `on_event`
        self.timer: asyncio.TimerHandle | None = None
        self.empty_since: float | None = None
        self.entering: dict[str, Entry] = {}  # by sid: joins being answered
        self.floors: dict[str, int] = {}  # by sid: what its ack covered, while the room may still send some of it
        # The events sent lately, in seq order (as sent), with the loop time they went: replayed to
        # joins whose snapshot is older than them. Every event sent after `replayable_after` is here.
        self.sent: deque[tuple[float, Packet]] = deque()
        self.replayable_after = 0


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
        try:
            async with asyncio.timeout(FOLLOW_WAIT_SECONDS):
                await state.ready.wait()
        except TimeoutError:
            # The bus does not answer (Redis gone): the room keeps trying, the client comes back.
            raise Busy("errors.busy", retry_after=round(FOLLOW_WAIT_SECONDS)) from None

    @contextlib.asynccontextmanager
    async def entering(self, sid: str, room: str) -> AsyncIterator[Entry]:
        """Follow the room and put the client in it; the block answers the join and sets `Entry.seq`.

        The room's events wait for the client until the block is over and the ack (sent as the
        handler returns, with nothing awaited between) is on its way; then the client gets those
        after `Entry.seq`, and from then on each flush without what the ack already covered.
        """
        await self.follow(room)
        state = self._rooms[room]
        entry = state.entering[sid] = Entry(sent_before=state.sent_seq)
        was_in = sid in self._sio.manager.rooms.get("/", {}).get(room, {})
        try:
            await self._sio.enter_room(sid, room)
            yield entry
        except BaseException:
            # Refused (or cut short): nothing is sent, and a client new to the room is out of it again.
            if state.entering.get(sid) is entry:
                del state.entering[sid]
            if not was_in:
                await self._sio.leave_room(sid, room)
            raise
        # Released on the loop's next iteration, after the ack, which is queued for the client as
        # the handler returns. Flushes until then still wait in `entry.held`, in order.
        asyncio.get_running_loop().call_soon(self._release, state, sid, entry)

    def _release(self, state: _Room, sid: str, entry: Entry) -> None:
        if state.entering.get(sid) is entry:
            del state.entering[sid]
        if entry.seq > state.sent_seq:
            state.floors[sid] = max(entry.seq, state.floors.get(sid, 0))
        packets = _replay(state, entry) + _after(entry.held, entry.seq)
        eio_sid = self._sio.manager.eio_sid_from_sid(sid, "/")
        if packets and eio_sid is not None:
            self.sockets.deliver(eio_sid, Broadcast([packet for _, packet in packets]))

    def replays_after(self, room: str, seq: int) -> bool:
        """Whether a client joining the room now with what its events did up to `seq` can be sent every
        event after it that the room already sent (a followed room keeps them a while)."""
        state = self._rooms.get(room)
        return state is not None and state.ready.is_set() and seq >= state.replayable_after

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
                self._send(room, [(0, socketio_event(event, {**payload, "seq": seq}))])
            return
        self._take(state, Envelope(room, 0, event, payload))

    async def _relay(self, state: _Room) -> None:
        while True:
            try:
                async with self._bus.subscribe(state.name) as events:
                    # A signal heard before the room's next event still carries the room's seq.
                    state.last_seq = max(state.last_seq, await self._bus.last_seq(state.name))
                    # What came before (or was lost while catching up) was never sent here.
                    state.replayable_after = state.last_seq
                    state.ready.set()
                    async for event in events:
                        self._take(state, event)
            except SubscriberTooSlow:
                continue  # clients notice the gap in seq and catch up with `join`
            except Exception:
                # The bus failed (Redis gone for a moment): follow the room again once it answers,
                # rather than leave it deaf, and its joins waiting, until the process restarts.
                # Clients notice the gap in seq and catch up with `join`.
                log.warning("room %s: the bus failed; following it again", state.name, exc_info=True)
                state.ready.clear()
                await asyncio.sleep(RELAY_RETRY_SECONDS)

    def _take(self, state: _Room, event: Envelope) -> None:
        if event.seq:
            state.last_seq = max(state.last_seq, event.seq)
            if self._on_event is not None:
                state.heard.append(event)
        seq = event.seq or state.last_seq
        state.pending.append((event.seq, socketio_event(event.event, {**event.payload, "seq": seq})))
        if is_urgent(event.event):
            self._flush(state)
        elif state.timer is None:
            state.timer = asyncio.get_running_loop().call_later(self.tick_seconds, self._flush, state)

    def _flush(self, state: _Room) -> None:
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if state.pending:
            pending, state.pending = state.pending, []
            self._send(state.name, pending, state)
            state.sent_seq = max(state.sent_seq, *(seq for seq, _ in pending))
            _keep_sent(state, pending, asyncio.get_running_loop().time())
            if state.floors:
                state.floors = {sid: seq for sid, seq in state.floors.items() if seq > state.sent_seq}
        for event in state.heard:
            self._heard.put_nowait((state.name, event))
        state.heard = []

    def _send(self, room: str, packets: list[Packet], state: _Room | None = None) -> None:
        members = self._sio.manager.rooms.get("/", {}).get(room)
        if not members:
            return
        broadcast = Broadcast([packet for _, packet in packets])
        if state is None or not (state.entering or state.floors):
            for eio_sid in members.values():
                self.sockets.deliver(eio_sid, broadcast)
            return
        trimmed: dict[int, Broadcast] = {}  # by floor: one copy for the clients whose acks ended there
        for sid, eio_sid in members.items():
            entry = state.entering.get(sid)
            if entry is not None:
                entry.held.extend(packets)
                continue
            floor = state.floors.get(sid)
            if floor is None:
                self.sockets.deliver(eio_sid, broadcast)
                continue
            if floor not in trimmed:
                trimmed[floor] = Broadcast([packet for _, packet in _after(packets, floor)])
            if len(trimmed[floor]):
                self.sockets.deliver(eio_sid, trimmed[floor])

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
            await tasks.stop(state.relay)

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
            await tasks.stop(task)
        await self.sockets.close()


def _keep_sent(state: _Room, packets: list[Packet], now: float) -> None:
    """Keep the room's logged events just sent for joins that come in with an older snapshot."""
    sent = state.sent
    sent.extend((now, packet) for packet in packets if packet[0])
    while sent and (len(sent) > REPLAY_MOST or sent[0][0] < now - REPLAY_SECONDS):
        _, (seq, _) = sent.popleft()
        state.replayable_after = max(state.replayable_after, seq)


def _replay(state: _Room, entry: Entry) -> list[Packet]:
    """The events the room sent before the client came in that its ack does not cover, in order."""
    if entry.sent_before <= entry.seq:
        return []
    replay = []
    for _, (seq, packet) in reversed(state.sent):  # the newest first: a snapshot is a moment old at most
        if seq <= entry.seq:
            break
        if seq <= entry.sent_before:
            replay.append((seq, packet))
    return replay[::-1]


def _after(packets: list[Packet], seq: int) -> list[Packet]:
    """The packets a client that has everything up to `seq` still needs (passing state included)."""
    return [(logged, packet) for logged, packet in packets if logged == 0 or logged > seq]
