"""The load-client processes of the room fan-out benchmark (tests/load/room_fanout.py).

Each process holds many viewers of one episode's room on raw WebSockets (`socketio_wire`), one
asyncio protocol each: the WebSocket handshake, Engine.IO OPEN, Socket.IO connect (anonymous:
viewers watch without a token), `join` (again after `retry_after` when refused as busy, as the watch
page does: frontend/src/shared/room.js), pings answered. A viewer counts the benchmark's chat
messages it receives and how long after their sending (the text carries the sender's
`time.monotonic()`, the same clock in every process of the machine). The first process also holds
the senders: viewers with a guest token that send the messages with `chat:send`, in turn.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import orjson

from tests.load.harness import child_process, run_commands
from tests.load.socketio_wire import (
    BROWSER_OFFER,
    COMPRESSED,
    PING,
    TEXT,
    client_frame,
    event_packet,
    handshake,
    split_response,
    take_frames,
)

MESSAGE = re.compile(rb'"text":"bench (\d+) (\d+)"')
SEQ = re.compile(rb'"seq":(\d+)}\]$')
RETRY_AFTER = re.compile(rb'"retry_after":(\d+)')
BUSY_FIRST_WAIT, BUSY_LONGEST_WAIT = 1.0, 30.0  # the watch page's (frontend/src/shared/room.js)
MAX_MS = 60_000  # latencies are counted per millisecond up to here
CONNECTING_AT_ONCE = 50
SIGNING_UP_AT_ONCE = 10


class Tally:
    """What this process's viewers received of the messages numbered [first, end)."""

    def __init__(self) -> None:
        self.first, self.end = 0, 0
        self.received = 0
        self.latency_ms = [0] * (MAX_MS + 1)
        self.out_of_order = 0
        self.disconnected = 0
        # In a rush, per message number (ms -> deliveries): the parent learns only afterwards which
        # messages were sent while viewers were arriving.
        self.by_number: dict[int, Counter[int]] | None = None

    def heard(self, payload: bytes, now_us: int) -> None:
        found = MESSAGE.search(payload)
        if found is None:
            return
        number = int(found[1])
        if self.first <= number < self.end:
            self.received += 1
            ms = min(MAX_MS, (now_us - int(found[2])) // 1000)
            self.latency_ms[ms] += 1
            if self.by_number is not None:
                self.by_number.setdefault(number, Counter())[ms] += 1


class Viewer(asyncio.Protocol):
    """One raw Socket.IO client in the room."""

    def __init__(self, port: int, episode_id: str, tally: Tally, token: str | None) -> None:
        self.port = port
        self.join = event_packet("join", {"episode_id": episode_id}, 0)
        self.tally = tally
        self.token = token
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks: dict[int, Callable[[bytes], None]] = {}
        self.last_seq = 0
        self.inflate: Any = None
        self.join_sent = 0.0  # monotonic, when `join` went out (the last time, after busy refusals)
        self.busy = 0  # joins refused as busy
        self.joined_at = 0.0  # ... and when its ack came back

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        # Offering compression as browsers do: a server that accepts it deflates every message.
        self.transport.write(handshake("127.0.0.1", self.port, extensions=BROWSER_OFFER))

    def send(self, packet: bytes) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(packet))

    def data_received(self, data: bytes) -> None:
        now_us = time.monotonic_ns() // 1000
        self.buffer += data
        if not self.upgraded:
            response = split_response(self.buffer)
            if response is None:
                return
            if response[0] != 101:
                self._fail(f"handshake got {response[0]}")
                return
            self.upgraded = True
            if "permessage-deflate" in response[1].get("sec-websocket-extensions", ""):
                self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        for opcode, payload in take_frames(self.buffer):
            if opcode & COMPRESSED:
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
                opcode &= ~COMPRESSED
            if opcode == TEXT:
                self._packet(payload, now_us)
            elif opcode == PING:
                self.transport.write(client_frame(payload, 0xA))  # type: ignore[union-attr]

    def _packet(self, payload: bytes, now_us: int) -> None:
        if payload.startswith(b"42"):
            self.event(payload, now_us)
        elif payload == b"2":
            self.send(b"3")
        elif payload.startswith(b"43"):
            ack_id = int(payload[2 : payload.index(b"[")])
            callback = self.acks.pop(ack_id, None)
            if callback is not None:
                callback(payload)
            elif ack_id == 0 and b'"ok":true' in payload:
                if not self.joined.done():
                    self.joined_at = time.monotonic()
                    self.joined.set_result(None)
            elif ack_id == 0 and b'"status":503' in payload:
                self.join_later(payload)
            elif ack_id == 0:
                self._fail(payload[:300].decode())
        elif payload.startswith(b"40"):
            self.send_join()
        elif payload.startswith(b"0"):
            self.send(b"40" + (orjson.dumps({"token": self.token}) if self.token else b""))
        elif payload.startswith(b"44"):
            self._fail(payload[:300].decode())

    def send_join(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.join_sent = time.monotonic()
        self.send(self.join)

    def join_later(self, refusal: bytes) -> None:
        """Refused as busy: join again as the watch page does, after `retry_after` or a wait doubling
        with each refusal, whichever is longer, plus up to half of it at random."""
        found = RETRY_AFTER.search(refusal)
        told = float(found[1]) if found is not None else 0.0
        wait = max(told, min(BUSY_LONGEST_WAIT, BUSY_FIRST_WAIT * 2**self.busy))
        self.busy += 1
        asyncio.get_running_loop().call_later(wait + random.random() * wait / 2, self.send_join)

    def event(self, payload: bytes, now_us: int) -> None:
        """A room event (`42[...]`) read at `now_us`: this viewer counts the benchmark's chat messages."""
        if payload.startswith(b'42["chat:message"'):
            found = SEQ.search(payload)
            seq = int(found[1]) if found is not None else 0
            if seq <= self.last_seq:
                self.tally.out_of_order += 1
            self.last_seq = max(self.last_seq, seq)
            self.tally.heard(payload, now_us)

    def _fail(self, why: str) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.joined.done():
            self.tally.disconnected += 1
        else:
            self.joined.set_exception(ConnectionError(f"connection lost: {exc}"))


class Clients:
    """The commands the parent sends to a load-client process."""

    def __init__(self, port: int, episode_id: str) -> None:
        self.port = port
        self.episode_id = episode_id
        self.tally = Tally()
        self.viewers: list[Viewer] = []
        self.senders: list[Viewer] = []
        self.sending: asyncio.Task[None] | None = None
        self.sent: dict[int, str] = {}  # message number -> "ok" or the error
        self.sent_at: dict[int, float] = {}
        self.ack_ms: dict[int, float] = {}  # message number -> how long its ack took
        self.next_ack = 1
        self.send_end = 0

    async def connect(self, viewers: int, senders: int) -> int:
        """Open and join `viewers` connections, the first `senders` of them with guest tokens."""
        tokens = await self._guest_tokens(senders)
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def one(token: str | None) -> Viewer:
            async with gate:
                _, viewer = await loop.create_connection(lambda: self.viewer(token), "127.0.0.1", self.port)
                async with asyncio.timeout(60):
                    await viewer.joined
                return viewer

        joined = await asyncio.gather(*[one(tokens[i] if i < senders else None) for i in range(viewers)])
        self.viewers += joined
        self.senders += joined[:senders]
        return len(self.viewers)

    async def arrive(self, viewers: int, times: list[float]) -> dict[str, Any]:
        """The rush: viewer i opens its connection at monotonic time `times[i]` (its arrival) and joins,
        however many are still on their way; the tally counts deliveries per message from now on.
        What the joins took: ms from `join` sent to its ack, and from arrival to the ack."""
        self.tally.by_number = {}
        loop = asyncio.get_running_loop()
        join_ms: Counter[int] = Counter()
        in_ms: Counter[int] = Counter()
        failed: Counter[str] = Counter()
        busy: Counter[int] = Counter()  # refusals as busy before getting in -> viewers
        last = 0.0

        async def one(at: float) -> None:
            nonlocal last
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            try:
                _, viewer = await loop.create_connection(lambda: self.viewer(None), "127.0.0.1", self.port)
                async with asyncio.timeout(120):
                    await viewer.joined
            except (OSError, ConnectionError, TimeoutError) as exc:
                failed[f"{type(exc).__name__}: {exc}"[:120]] += 1
                return
            self.viewers.append(viewer)
            busy[viewer.busy] += 1
            join_ms[round(1000 * (viewer.joined_at - viewer.join_sent))] += 1
            in_ms[round(1000 * (viewer.joined_at - at))] += 1
            last = max(last, viewer.joined_at)

        await asyncio.gather(*(one(at) for at in times[:viewers]))
        what = {"join_ms": dict(join_ms), "in_ms": dict(in_ms), "failed": dict(failed), "busy": dict(busy)}
        return {**what, "last_in": last}

    def viewer(self, token: str | None) -> Viewer:
        """A new viewer's protocol (the poll storm's viewers are a subclass)."""
        return Viewer(self.port, self.episode_id, self.tally, token)

    def guest(self, number: int) -> dict[str, Any]:
        """The body of guest number `number`'s `POST /api/v1/auth/guest`."""
        return {"nickname": f"Sender {number}"}

    async def _guest_tokens(self, count: int) -> list[str]:
        gate = asyncio.Semaphore(SIGNING_UP_AT_ONCE)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{self.port}") as http:

            async def one(number: int) -> str:
                async with gate, http.post("/api/v1/auth/guest", json=self.guest(number)) as response:
                    if response.status != 201:
                        raise RuntimeError(f"guest sign-in got {response.status}: {(await response.text())[:200]}")
                    return str((await response.json())["token"])

            return await asyncio.gather(*(one(number) for number in range(count)))

    async def received(self) -> int:
        return self.tally.received

    async def count(self, first: int, end: int, by_number: bool = False) -> None:
        """Count the messages numbered [first, end) from now on (`by_number`: each message apart too)."""
        self.tally.first, self.tally.end = first, end
        if by_number:
            self.tally.by_number = {}

    async def send(self, start: float, rate: float, end: int) -> None:
        """Send messages 0..end-1, number n at monotonic time `start + n / rate`, the senders in turn."""
        self.send_end = end

        async def schedule() -> None:
            number = 0
            while number < self.send_end:
                await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
                if number >= self.send_end:  # cut short meanwhile (`send_until`)
                    break
                sender = self.senders[number % len(self.senders)]
                ack_id = self.next_ack
                self.next_ack += 1
                self.sent[number] = "no ack"
                sender.acks[ack_id] = lambda payload, number=number: self._acked(number, payload)
                self.sent_at[number] = time.monotonic()
                text = f"bench {number} {time.monotonic_ns() // 1000}"
                sender.send(event_packet("chat:send", {"episode_id": self.episode_id, "text": text}, ack_id))
                number += 1

        self.sending = asyncio.create_task(schedule())

    async def send_until(self, end: int) -> None:
        """Send no message numbered `end` or after (the rush over, whenever that was)."""
        self.send_end = min(self.send_end, end)

    def _acked(self, number: int, payload: bytes) -> None:
        self.sent[number] = "ok" if b'"ok":true' in payload else payload[:200].decode()
        self.ack_ms[number] = (time.monotonic() - self.sent_at[number]) * 1000

    async def report(self) -> dict[str, Any]:
        if self.sending is not None:
            await self.sending
        tally = self.tally
        return {
            "received": tally.received,
            "latency_ms": {ms: n for ms, n in enumerate(tally.latency_ms) if n},
            "out_of_order": tally.out_of_order,
            "disconnected": tally.disconnected,
            "sent": self.sent,
            "ack_ms": self.ack_ms,
            "by_number": {n: dict(c) for n, c in (tally.by_number or {}).items()},
        }

    async def stop(self) -> None:
        for viewer in self.viewers:
            if viewer.transport is not None:
                viewer.transport.abort()


def child_main(conn: Connection, port: int, episode_id: str, parent: int, lifetime: float) -> None:
    """A spawned load-client process: runs the parent's commands until `stop`."""
    child_process(parent, lifetime)
    asyncio.run(_serve(conn, port, episode_id))
    os._exit(0)


async def _serve(conn: Connection, port: int, episode_id: str) -> None:
    await run_commands(conn, Clients(port, episode_id))
