"""How many viewers each room has across every app process.

Each process reports its own count per room once a second and reads the totals back; with
Redis the counts live in one hash per room (a field per process, stamped, so a process that
died stops counting after a few seconds).
"""

from __future__ import annotations

import time
import uuid
from typing import Protocol

from redis.asyncio import Redis


class Presence(Protocol):
    async def report(self, counts: dict[str, int]) -> dict[str, int]:
        """Record this process's count per room; the totals of those rooms across processes."""
        ...

    async def totals(self, rooms: list[str]) -> dict[str, int]:
        """The rooms' counts across processes, as last reported (for a process without a viewer in them)."""
        ...

    async def close(self) -> None: ...


class LocalPresence:
    """One process: its own counts are the totals."""

    async def report(self, counts: dict[str, int]) -> dict[str, int]:
        return dict(counts)

    async def totals(self, rooms: list[str]) -> dict[str, int]:
        return dict.fromkeys(rooms, 0)  # the only process has reported none of them

    async def close(self) -> None:
        return None


class RedisPresence:
    def __init__(self, redis: Redis, *, prefix: str = "shopcast:", stale_after_seconds: float = 5.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._stale_after = stale_after_seconds
        self._node = uuid.uuid4().hex
        self._reported: set[str] = set()

    def _key(self, room: str) -> str:
        return f"{self._prefix}presence:{room}"

    async def report(self, counts: dict[str, int]) -> dict[str, int]:
        now = time.time()
        rooms = list(counts)
        gone = self._reported - set(rooms)
        # Counted as written before it is sent: a report cut short (at shutdown) may still have
        # reached Redis, and `close` must take it back.
        self._reported |= set(rooms)
        async with self._redis.pipeline(transaction=False) as pipe:
            for room in gone:
                pipe.hdel(self._key(room), self._node)
            for room in rooms:
                key = self._key(room)
                pipe.hset(key, self._node, f"{counts[room]}:{now:.3f}")
                pipe.expire(key, 3600)
                pipe.hgetall(key)
            replies = await pipe.execute()
        self._reported = set(rooms)
        # The last len(rooms) * 3 replies are (hset, expire, hgetall) per room, in order.
        per_room = replies[len(replies) - 3 * len(rooms) :]
        return {room: self._total(per_room[3 * index + 2], now) for index, room in enumerate(rooms)}

    async def totals(self, rooms: list[str]) -> dict[str, int]:
        now = time.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            for room in rooms:
                pipe.hgetall(self._key(room))
            replies = await pipe.execute()
        return {room: self._total(fields, now) for room, fields in zip(rooms, replies, strict=True)}

    def _total(self, fields: dict[bytes, bytes], now: float) -> int:
        """The sum of the processes' counts, without those of processes that stopped reporting."""
        return sum(
            int(count)
            for count, stamped in (v.decode().split(":", 1) for v in fields.values())
            if now - float(stamped) <= self._stale_after
        )

    async def close(self) -> None:
        if self._reported:
            async with self._redis.pipeline(transaction=False) as pipe:
                for room in self._reported:
                    pipe.hdel(self._key(room), self._node)
                await pipe.execute()
