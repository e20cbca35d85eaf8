"""The viewer counts that app processes share through Redis."""

from __future__ import annotations

import asyncio
import contextlib

from redis.asyncio import Redis

from shopcast.core.presence import RedisPresence
from tests.conftest import keys_under


async def test_a_process_stopped_in_the_middle_of_a_report_takes_its_count_back(
    redis_only_url: str, redis_prefix: str
) -> None:
    redis = Redis.from_url(redis_only_url)
    try:
        # Shutdown cancels the once-a-second report wherever it is: at each step of it in turn.
        for steps in range(30):
            presence = RedisPresence(redis, prefix=redis_prefix)
            report = asyncio.create_task(presence.report({f"episode:{steps}": 3}))
            for _ in range(steps):
                await asyncio.sleep(0)
            report.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await report
            await presence.close()
            assert await keys_under(redis, redis_prefix) == set(), f"cancelled after {steps} steps"
    finally:
        await redis.aclose()


async def test_counts_add_up_across_processes_until_one_closes(redis_only_url: str, redis_prefix: str) -> None:
    redis = Redis.from_url(redis_only_url)
    one, two = RedisPresence(redis, prefix=redis_prefix), RedisPresence(redis, prefix=redis_prefix)
    try:
        assert await one.report({"episode:a": 3, "episode:b": 1}) == {"episode:a": 3, "episode:b": 1}
        assert await two.report({"episode:a": 2}) == {"episode:a": 5}
        assert await two.totals(["episode:a", "episode:b", "episode:c"]) == {
            "episode:a": 5,
            "episode:b": 1,
            "episode:c": 0,
        }
        await one.close()
        assert await two.report({"episode:a": 2}) == {"episode:a": 2}
        await two.close()
        assert await keys_under(redis, redis_prefix) == set()
    finally:
        await redis.aclose()
