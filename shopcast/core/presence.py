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

    async def close(self) -> None: ...


class LocalPresence:
    """One process: its own counts are the totals."""

    async def report(self, counts: dict[str, int]) -> dict[str, int]:
        return dict(counts)

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
        async with self._redis.pipeline(transaction=False) as pipe:
            for room in self._reported - set(rooms):
                pipe.hdel(self._key(room), self._node)
            for room in rooms:
                key = self._key(room)
                pipe.hset(key, self._node, f"{counts[room]}:{now:.3f}")
                pipe.expire(key, 3600)
                pipe.hgetall(key)
            replies = await pipe.execute()
        self._reported = set(rooms)
        totals: dict[str, int] = {}
        # The last len(rooms) * 3 replies are (hset, expire, hgetall) per room, in order.
        per_room = replies[len(replies) - 3 * len(rooms) :]
        for index, room in enumerate(rooms):
            fields = per_room[3 * index + 2]
            totals[room] = sum(
                int(count)
                for count, stamped in (v.decode().split(":", 1) for v in fields.values())
                if now - float(stamped) <= self._stale_after
            )
        return totals

    async def close(self) -> None:
        if self._reported:
            async with self._redis.pipeline(transaction=False) as pipe:
                for room in self._reported:
                    pipe.hdel(self._key(room), self._node)
                await pipe.execute()
