"""Background tasks that talk to Redis are stopped every time: the app's stop waits for each of them."""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis

from shopcast.core import tasks

TASKS = 100


async def test_a_task_looping_over_redis_commands_is_stopped_every_time(redis_only_url: str, redis_prefix: str) -> None:
    redis = Redis.from_url(redis_only_url)
    key = f"{redis_prefix}beat"

    async def renewing() -> None:  # as a node renews its address, a process reports its counts
        while True:
            await redis.set(key, b"alive", px=10_000)
            await asyncio.sleep(0.001)

    survived = 0  # the tasks that carried on after their first cancel (Python 3.11, see tasks.py)
    try:
        for _ in range(TASKS):
            task = asyncio.create_task(renewing())
            await asyncio.sleep(random.uniform(0.001, 0.02))  # stopped at any point of a command
            task.cancel()
            await asyncio.wait({task}, timeout=0.05)  # a cancel heard ends it at once
            survived += not task.done()
            async with asyncio.timeout(10):
                await tasks.stop(task)
            assert task.cancelled()
    finally:
        await redis.aclose()
    print(f"{survived} of {TASKS} tasks carried on after one cancel")  # shown with -s
