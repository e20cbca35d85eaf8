"""Throttles let passing state out at most once per period, over every process sharing them."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from shopcast.core.ratelimit import MemoryThrottle, RedisThrottle, Throttle


@pytest.fixture
async def throttles(redis_url: str | None, redis_prefix: str) -> AsyncIterator[list[Throttle]]:
    """Two processes' throttles: one shared in memory, or two on one Redis."""
    if redis_url is None:
        shared = MemoryThrottle()
        yield [shared, shared]
        return
    redis = Redis.from_url(redis_url)
    try:
        yield [RedisThrottle(redis, prefix=redis_prefix), RedisThrottle(redis, prefix=redis_prefix)]
    finally:
        await redis.aclose()


async def test_at_most_one_turn_per_period_whoever_asks(throttles: list[Throttle]) -> None:
    turns: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < 1.2:
        for throttle in throttles:
            if await throttle.take("poll-tally:x", 0.25):
                turns.append(time.monotonic())
        await asyncio.sleep(0.01)
    assert 4 <= len(turns) <= 5, turns
    assert all(b - a >= 0.24 for a, b in itertools.pairwise(turns)), turns
    assert await throttles[0].take("poll-tally:y", 0.25)  # each key has its own turns
