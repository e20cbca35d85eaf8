"""The realtime bus: services publish `(room, event, payload)`, the socket layer delivers.

Each room has its own sequence (1, 2, 3…) stamped at publish time and a bounded log of
recent events, so a client that reconnects with the last `seq` it saw gets exactly what
it missed, or is told to take a fresh snapshot when it is too far behind. Signals (seq 0)
carry passing state such as reaction tallies: delivered the same way, never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from shopcast.core import tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One published event, as every subscriber of the room receives it."""

    room: str
    seq: int
    event: str
    payload: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps({"room": self.room, "seq": self.seq, "event": self.event, "payload": self.payload})

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        raw = orjson.loads(data)
        return cls(room=raw["room"], seq=raw["seq"], event=raw["event"], payload=raw["payload"])


class SubscriberTooSlow(Exception):
    """A subscriber's queue overflowed; it should catch up with `Bus.since(room, last_seq)`."""

    def __init__(self, room: str, last_seq: int) -> None:
        super().__init__(f"subscriber of {room!r} fell behind after seq {last_seq}")
        self.room = room
        self.last_seq = last_seq


@dataclass(eq=False)
class Subscription:
    """Events of one room for one local consumer, in seq order, through a bounded queue."""

    room: str
    max_queue: int
    _queue: asyncio.Queue[Envelope] = field(init=False)
    _overflowed: bool = field(default=False, init=False)
    _last_queued: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.max_queue)

    def deliver(self, envelope: Envelope) -> None:
        if self._overflowed:
            return
        try:
            self._queue.put_nowait(envelope)
            self._last_queued = envelope.seq
        except asyncio.QueueFull:
            self._overflowed = True

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Envelope:
        if self._overflowed and self._queue.empty():
            raise SubscriberTooSlow(self.room, self._last_queued)
        return await self._queue.get()


class Bus(Protocol):
    kind: str

    async def publish(self, room: str, event: str, payload: dict[str, Any]) -> Envelope:
        """Stamp the next seq of `room` and deliver the event to every subscriber of the room."""
        ...

    async def signal(self, room: str, event: str, payload: dict[str, Any]) -> None:
        """Deliver a passing state (a count, a tally) to the room's subscribers as seq 0: not logged."""
        ...

    def subscribe(self, room: str, *, max_queue: int = 1000) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Receive the room's events published from now on, until the block exits."""
        ...

    async def since(self, room: str, last_seq: int) -> list[Envelope] | None:
        """Events after `last_seq`; None when they are no longer all kept (take a snapshot)."""
        ...

    async def last_seq(self, room: str) -> int:
        """The seq of the room's latest event, 0 if none."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class _LocalRooms:
    """Local subscribers per room, shared by both bus kinds."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> bool:
        """Register; True when it is the room's first local subscriber."""
        subs = self.subscribers.setdefault(subscription.room, set())
        subs.add(subscription)
        return len(subs) == 1

    def remove(self, subscription: Subscription) -> bool:
        """Unregister; True when the room has no local subscriber left."""
        subs = self.subscribers.get(subscription.room)
        if subs is None:
            return False
        subs.discard(subscription)
        if not subs:
            del self.subscribers[subscription.room]
            return True
        return False

    def deliver(self, envelope: Envelope) -> None:
        for subscription in tuple(self.subscribers.get(envelope.room, ())):
            subscription.deliver(envelope)


class InProcessBus:
    """The embedded bus: one process, no service needed."""

    kind = "in-process"

    def __init__(self, *, log_size: int = 1000) -> None:
        self._log_size = log_size
        self._seq: dict[str, int] = {}
        self._logs: dict[str, deque[Envelope]] = {}
        self._rooms = _LocalRooms()

    async def publish(self, room: str, event: str, payload: dict[str, Any]) -> Envelope:
        # No await between stamping and delivering: events leave in seq order.
        seq = self._seq.get(room, 0) + 1
        self._seq[room] = seq
        envelope = Envelope(room, seq, event, payload)
        self._logs.setdefault(room, deque(maxlen=self._log_size)).append(envelope)
        self._rooms.deliver(envelope)
        return envelope

    async def signal(self, room: str, event: str, payload: dict[str, Any]) -> None:
        self._rooms.deliver(Envelope(room, 0, event, payload))

    @contextlib.asynccontextmanager
    async def subscribe(self, room: str, *, max_queue: int = 1000) -> AsyncIterator[Subscription]:
        subscription = Subscription(room, max_queue)
        self._rooms.add(subscription)
        try:
            yield subscription
        finally:
            self._rooms.remove(subscription)

    async def since(self, room: str, last_seq: int) -> list[Envelope] | None:
        current = self._seq.get(room, 0)
        if last_seq == current:
            return []
        entries = self._logs.get(room)
        if last_seq > current or not entries or entries[0].seq > last_seq + 1:
            return None
        return [e for e in entries if e.seq > last_seq]

    async def last_seq(self, room: str) -> int:
        return self._seq.get(room, 0)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._rooms.subscribers.clear()


# Stamping, logging and publishing in one script makes them atomic: the seq order is the
# order every node receives, and the log never lacks an event that was delivered.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local msg = '{"room":' .. ARGV[1] .. ',"seq":' .. seq .. ',"event":' .. ARGV[2] .. ',"payload":' .. ARGV[3] .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], seq .. '-0', 'm', msg)
redis.call('PUBLISH', KEYS[3], msg)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return seq
"""


class RedisBus:
    """The bus across app processes: one channel per room, the recent log in a capped stream."""

    kind = "redis"

    def __init__(self, redis: Redis, *, prefix: str = "shopcast:", log_size: int = 1000, ttl_seconds: int = 86400):
        self._redis = redis
        self._prefix = prefix
        self._log_size = log_size
        self._ttl = ttl_seconds
        self._script = redis.register_script(_PUBLISH)
        self._rooms = _LocalRooms()
        self._pubsub = redis.pubsub()
        self._listener: asyncio.Task[None] | None = None
        self._subscribe_lock = asyncio.Lock()

    def _keys(self, room: str) -> tuple[str, str, str]:
        base = f"{self._prefix}bus:{room}"
        return f"{base}:seq", f"{base}:log", base

    async def publish(self, room: str, event: str, payload: dict[str, Any]) -> Envelope:
        seq = await self._script(
            keys=self._keys(room),
            args=[orjson.dumps(room), orjson.dumps(event), orjson.dumps(payload), self._log_size, self._ttl],
        )
        return Envelope(room, int(seq), event, payload)

    async def signal(self, room: str, event: str, payload: dict[str, Any]) -> None:
        await self._redis.publish(self._keys(room)[2], Envelope(room, 0, event, payload).to_json())

    @contextlib.asynccontextmanager
    async def subscribe(self, room: str, *, max_queue: int = 1000) -> AsyncIterator[Subscription]:
        subscription = Subscription(room, max_queue)
        channel = self._keys(room)[2]
        async with self._subscribe_lock:
            if self._rooms.add(subscription):
                try:
                    await self._pubsub.subscribe(channel)
                except BaseException:
                    # Not subscribed: the room's next subscriber must ask Redis again.
                    self._rooms.remove(subscription)
                    raise
            if self._listener is None:
                self._listener = asyncio.create_task(self._listen(), name="shopcast-bus-listener")
        try:
            yield subscription
        finally:
            async with self._subscribe_lock:
                if self._rooms.remove(subscription):
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(channel)

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus listener lost its Redis connection; retrying")
                await asyncio.sleep(1.0)
                continue
            if message is None:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                continue
            try:
                self._rooms.deliver(Envelope.from_json(message["data"]))
            except Exception:
                log.exception("dropped an unreadable bus message")

    async def since(self, room: str, last_seq: int) -> list[Envelope] | None:
        seq_key, log_key, _ = self._keys(room)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xrange(log_key, min=f"{last_seq + 1}-0", max="+")
            pipe.get(seq_key)
            entries, current = await pipe.execute()
        current = int(current or 0)
        if last_seq == current:
            return []
        if last_seq > current or not entries:
            return None
        envelopes = [Envelope.from_json(fields[b"m"]) for _id, fields in entries]
        if envelopes[0].seq != last_seq + 1:
            return None
        return envelopes

    async def last_seq(self, room: str) -> int:
        return int(await self._redis.get(self._keys(room)[0]) or 0)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await tasks.stop(self._listener)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
