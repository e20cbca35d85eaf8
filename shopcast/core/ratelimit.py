"""Rate limits on the app's clock: fixed windows (in memory for one process, in Redis when
processes share the load) and per-connection token buckets; and throttles, which let passing state
(a live tally) out at most once per period across processes."""

from __future__ import annotations

import math
import time
from typing import Protocol

from redis.asyncio import Redis

from shopcast.core.clock import Clock
from shopcast.core.errors import Phrase, TooManyRequests


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        """Count one attempt; None if allowed, else the seconds until the window reopens."""
        ...


def whole_seconds(delay: float) -> int:
    """A wait in whole seconds, rounded up so a client that waits that long gets in (at least 1)."""
    # A millisecond of slack: clock arithmetic leaves 300.0000001 where 300 is meant.
    return max(1, math.ceil(delay - 0.001))


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        now = self._clock.now().timestamp()
        if len(self._windows) > 10_000:
            # Forget closed windows so a flood of distinct keys cannot grow memory forever.
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        ends_at, count = self._windows.get(key, (0.0, 0))
        if ends_at <= now:
            ends_at, count = now + window_seconds, 0
        count += 1
        self._windows[key] = (ends_at, count)
        return None if count <= limit else ends_at - now


# One round trip, atomic: the window's end is on the app's clock (as in memory, so both behave
# alike and tests can move time); the key's TTL only clears windows nobody touches any more.
_HIT = """
local now = tonumber(ARGV[1])
local ends = tonumber(redis.call('HGET', KEYS[1], 'ends'))
if ends == nil or ends <= now then
  ends = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'ends', string.format('%.0f', ends), 'count', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {redis.call('HINCRBY', KEYS[1], 'count', 1), ends}
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, clock: Clock, *, prefix: str = "shopcast:") -> None:
        self._clock = clock
        self._prefix = prefix
        self._hit = redis.register_script(_HIT)

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        now_ms = int(self._clock.now().timestamp() * 1000)
        name = f"{self._prefix}window:{key}"
        count, ends_ms = await self._hit(keys=[name], args=[now_ms, window_seconds * 1000])
        return None if count <= limit else (int(ends_ms) - now_ms) / 1000


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window_seconds: int, what: Phrase) -> None:
    """Count an attempt and raise 429 with a retry delay when over the limit (`what`: what is counted)."""
    retry_after = await limiter.hit(key, limit=limit, window_seconds=window_seconds)
    if retry_after is not None:
        seconds = whole_seconds(retry_after)
        raise TooManyRequests("errors.limit.too_many", what=what, seconds=seconds, retry_after=seconds)


class TokenBucket:
    """A per-connection allowance: `rate` events a second on average, bursts up to `burst`."""

    __slots__ = ("_burst", "_clock", "_rate", "_tokens", "_updated")

    def __init__(self, *, rate: float, burst: int, clock: Clock) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock.now().timestamp()

    def take(self) -> float | None:
        """Spend one token; None if allowed, else the seconds until one is back."""
        # max(): a wall clock set back (NTP) neither takes tokens away nor gives them twice.
        now = max(self._updated, self._clock.now().timestamp())
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return (1 - self._tokens) / self._rate


class Throttle(Protocol):
    async def take(self, key: str, seconds: float) -> bool:
        """True at most once per `seconds` for `key`, over every process sharing the throttle."""
        ...


class MemoryThrottle:
    """One process: on the event loop's monotonic time (passing state such as tallies runs on real
    time, whatever the app's clock says)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    async def take(self, key: str, seconds: float) -> bool:
        now = time.monotonic()
        if len(self._last) > 10_000:
            self._last = {k: v for k, v in self._last.items() if now - v < 3600}
        last = self._last.get(key)
        if last is not None and now - last < seconds:
            return False
        self._last[key] = now
        return True


class RedisThrottle:
    """Every process: whoever sets the key first in each period takes it (Redis expires it)."""

    def __init__(self, redis: Redis, *, prefix: str = "shopcast:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def take(self, key: str, seconds: float) -> bool:
        name = f"{self._prefix}throttle:{key}"
        return bool(await self._redis.set(name, b"1", nx=True, px=max(1, round(seconds * 1000))))
