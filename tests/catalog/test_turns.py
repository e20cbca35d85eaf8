"""Taking turns at a variant: a few taps at a time go on to the database."""

from __future__ import annotations

import asyncio
import uuid

from shopcast.catalog import stock


async def test_a_few_taps_at_a_time_and_nothing_kept_after() -> None:
    variant = uuid.uuid4()
    most = now_inside = 0
    release = asyncio.Event()

    async def tap() -> None:
        nonlocal most, now_inside
        async with stock.turn(variant):
            now_inside += 1
            most = max(most, now_inside)
            await release.wait()
            now_inside -= 1

    taps = [asyncio.create_task(tap()) for _ in range(10)]
    await asyncio.sleep(0.01)
    assert now_inside == stock.TURNS_PER_VARIANT  # the others wait, without a database connection
    taps[-1].cancel()  # a viewer who closed the page while waiting gives up the place in line
    release.set()
    await asyncio.gather(*taps, return_exceptions=True)
    assert most == stock.TURNS_PER_VARIANT and taps[-1].cancelled()
    assert variant not in stock._turns  # nothing kept once nobody waits
