"""Writing room events to this process's Socket.IO clients: encoded once, written once per client.

python-socketio's own room emit makes a task per recipient and an engineio packet per recipient,
which costs about 80 µs of event-loop time per viewer. Here a flush of a room's events is encoded
once, as Socket.IO EVENT packets and as the WebSocket frames carrying them (a server's frames are
the same for every client), and each WebSocket client gets them in one `transport.write`.

That direct write is only taken when it cannot overtake what engineio itself sends the client
(connect replies, acks, pings, which go through the client's engineio queue and writer task):
when the client is on WebSocket (not polling, not mid-upgrade), its engineio queue is empty with
nothing taken out and unwritten, engineio's writer is not waiting on the client, and the client's
write buffer is under the transport's high-water mark. Otherwise the packets go on the client's
engineio queue, behind whatever is there, and engineio's writer sends them; once that queue is
written out, the next flush writes directly again. Either way the client receives the room's
packets in the order they were sent. A client that is still past one of the limits below when the
next flush comes (bytes it has not taken, packets waiting for it) is disconnected: Socket.IO
clients reconnect by themselves and catch up with `join` and `last_seq`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import engineio
import orjson
from engineio import packet as eio_packet

from shopcast.core import tasks
from shopcast.web import websocket
from shopcast.web.websocket import Connection

log = logging.getLogger(__name__)
MAX_UNSENT_BYTES = 256 * 1024
"""A client with more than this written to it and not yet taken by its network is disconnected."""
MAX_QUEUED_PACKETS = 512
"""A client with more packets than this waiting in its engineio queue is disconnected."""
POLL_PACKETS = 12
"""Room packets in a polling client's queue at most (python-engineio clients take 16 per response)."""
RELEASE_SECONDS = 0.05
"""How often held packets of polling clients are moved to their queue."""


def socketio_event(event: str, payload: Any) -> bytes:
    """The Socket.IO EVENT packet for the default namespace, as it travels inside an engine.io message."""
    return b"2" + orjson.dumps([event, payload])


class Broadcast:
    """One flush of a room's events, encoded once for every client."""

    __slots__ = ("_events", "_packets", "frames")

    def __init__(self, events: list[bytes]) -> None:
        self._events = events
        self.frames = b"".join(websocket.text_frame(b"4" + event) for event in events)
        """The engine.io MESSAGE frames of every event, one WebSocket text frame each."""
        self._packets: list[eio_packet.Packet] | None = None

    @property
    def packets(self) -> list[eio_packet.Packet]:
        """The same events as engineio packets, for clients served through their engineio queue."""
        if self._packets is None:
            self._packets = [eio_packet.Packet(eio_packet.MESSAGE, event.decode()) for event in self._events]
        return self._packets

    def __len__(self) -> int:
        return len(self._events)


@dataclass
class DeliveryCounts:
    """What fan-out did since the process started (for logs and benchmarks)."""

    written: int = 0
    """Broadcasts written straight to a client's WebSocket."""
    queued: int = 0
    """Broadcasts put on a client's engineio queue (polling, upgrading or busy clients)."""
    disconnected: int = 0
    """Clients disconnected for falling too far behind."""


class LocalSockets:
    """This process's engine.io clients, reached directly on WebSocket and through engineio otherwise."""

    def __init__(self, eio: engineio.AsyncServer) -> None:
        self._eio = eio
        self._connections = websocket.install(eio)
        self._held: dict[str, deque[eio_packet.Packet]] = {}  # polling clients' packets beyond one response
        self._releasing: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.counts = DeliveryCounts()

    def deliver(self, eio_sid: str, broadcast: Broadcast) -> None:
        """Send the broadcast to one client, after everything already sent to it."""
        client = self._eio.sockets.get(eio_sid)
        if client is None or client.closing or client.closed:
            return
        connection = self._connections.get(eio_sid)
        if connection is not None and connection.transport.is_closing():
            return
        behind = self._behind(client, connection)
        if behind:
            self._disconnect(client, connection, behind)
        elif eio_sid in self._held or not client.upgraded:
            self._hold(client, broadcast.packets)
            self.counts.queued += 1
        elif connection is not None and self._writable(client, connection):
            connection.transport.write(broadcast.frames)
            self.counts.written += 1
        else:  # engineio's writer sends them, one WebSocket message each
            for packet in broadcast.packets:
                client.queue.put_nowait(packet)
            self.counts.queued += 1

    def _behind(self, client: Any, connection: Connection | None) -> str | None:
        """Why the client is too far behind to keep, if it is (checked before adding to what it has)."""
        if connection is not None and connection.transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            return "its network is not taking what it is sent"
        if client.queue.qsize() + len(self._held.get(client.sid, ())) > MAX_QUEUED_PACKETS:
            return "it is not collecting what it is sent"
        return None

    @staticmethod
    def _writable(client: Any, connection: Connection) -> bool:
        queue = client.queue
        return (
            client.upgraded
            and not client.upgrading
            and not connection.sending
            and queue.empty()
            # A packet engineio's writer took from the queue counts as unfinished until the writer
            # resumes; it writes it right then, without waiting unless the client is slow (`sending`).
            and queue._unfinished_tasks == 0
            and connection.transport.get_write_buffer_size() <= connection.transport.get_write_buffer_limits()[1]
        )

    def _hold(self, client: Any, packets: list[eio_packet.Packet]) -> None:
        # A polling response carries everything in the client's queue, and python-engineio clients
        # refuse one of more than 16 packets: the rest waits here until the client has polled.
        held = self._held.get(client.sid)
        if held is None:
            if client.queue.qsize() + len(packets) <= POLL_PACKETS:
                for packet in packets:
                    client.queue.put_nowait(packet)
                return
            held = self._held[client.sid] = deque()
        held.extend(packets)
        self._top_up(client, held)
        if self._releasing is None:
            self._releasing = asyncio.create_task(self._release_held(), name="release-held-packets")

    @staticmethod
    def _top_up(client: Any, held: deque[eio_packet.Packet]) -> None:
        # Once on WebSocket, each packet is its own message: everything held can go.
        room = len(held) if client.upgraded else POLL_PACKETS - client.queue.qsize()
        for _ in range(min(room, len(held))):
            client.queue.put_nowait(held.popleft())

    async def _release_held(self) -> None:
        try:
            while self._held:
                await asyncio.sleep(RELEASE_SECONDS)
                for sid, held in list(self._held.items()):
                    client = self._eio.sockets.get(sid)
                    if client is not None and not client.closed:
                        self._top_up(client, held)
                    if client is None or client.closed or not held:
                        del self._held[sid]
        finally:
            self._releasing = None

    def _disconnect(self, client: Any, connection: Connection | None, why: str) -> None:
        log.warning(
            "disconnected a client (%s) that fell behind: %s (%d bytes unsent, %d packets waiting; limits %d bytes, "
            "%d packets); it reconnects and catches up",
            client.sid,
            why,
            connection.transport.get_write_buffer_size() if connection is not None else 0,
            client.queue.qsize() + len(self._held.pop(client.sid, ())),
            MAX_UNSENT_BYTES,
            MAX_QUEUED_PACKETS,
        )
        self.counts.disconnected += 1
        if connection is not None:
            # abort, not close: close would wait for the unsent bytes that this client is not taking.
            connection.transport.abort()
            return
        task = asyncio.create_task(client.close(wait=False, abort=True, reason=self._eio.reason.SERVER_DISCONNECT))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for task in [self._releasing, *self._closing]:
            await tasks.stop(task)
