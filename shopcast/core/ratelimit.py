"""Fixed-window rate limits: in memory for one process, in Redis when processes share the load."""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis

from shopcast.core.errors import TooManyRequests


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        """Count one attempt; None if allowed, else the seconds until the window reopens."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        now = time.monotonic()
        if len(self._windows) > 10_000:
            # Forget closed windows so a flood of distinct keys cannot grow memory forever.
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        ends_at, count = self._windows.get(key, (0.0, 0))
        if ends_at <= now:
            ends_at, count = now + window_seconds, 0
        count += 1
        self._windows[key] = (ends_at, count)
        return None if count <= limit else ends_at - now


class RedisRateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "shopcast:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        name = f"{self._prefix}limit:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.pttl(name)
            count, _, ttl_ms = await pipe.execute()
        return None if count <= limit else max(ttl_ms, 1000) / 1000


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window_seconds: int, what: str) -> None:
    """Count an attempt and raise 429 with a retry delay when over the limit."""
    retry_after = await limiter.hit(key, limit=limit, window_seconds=window_seconds)
    if retry_after is not None:
        raise TooManyRequests(f"too many {what}; try again in {max(1, round(retry_after))} s", retry_after=retry_after)


class TokenBucket:
    """A per-connection allowance: `rate` events a second on average, bursts up to `burst`."""

    __slots__ = ("_burst", "_rate", "_tokens", "_updated")

    def __init__(self, *, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated = time.monotonic()

    def take(self) -> float | None:
        """Spend one token; None if allowed, else the seconds until one is back."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return (1 - self._tokens) / self._rate
