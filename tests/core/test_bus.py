"""The realtime bus, on its own: in-process and over Redis."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from shopcast.core.bus import Bus, Envelope, InProcessBus, RedisBus, SubscriberTooSlow, Subscription

BusFactory = Callable[..., Bus]


@pytest.fixture
async def bus_factory(redis_url: str | None, redis_prefix: str) -> AsyncIterator[BusFactory]:
    """Makes buses of the variant under test; several Redis buses behave like several app processes."""
    made: list[tuple[Bus, Redis | None]] = []

    def make(log_size: int = 1000) -> Bus:
        if redis_url is None:
            bus: Bus = InProcessBus(log_size=log_size)
            made.append((bus, None))
            return bus
        client = Redis.from_url(redis_url)
        bus = RedisBus(client, prefix=redis_prefix, log_size=log_size)
        made.append((bus, client))
        return bus

    yield make
    for bus, client in made:
        await bus.close()
        if client is not None:
            await client.aclose()


async def take(subscription: Subscription, count: int) -> list[Envelope]:
    async with asyncio.timeout(5):
        return [await anext(subscription) for _ in range(count)]


async def test_subscribers_receive_events_in_order_with_increasing_seq(bus_factory: BusFactory) -> None:
    bus = bus_factory()
    async with bus.subscribe("episode:1") as first, bus.subscribe("episode:1") as second:
        for n in range(20):
            await bus.publish("episode:1", "chat:message", {"n": n})
        got_first, got_second = await take(first, 20), await take(second, 20)
    assert [e.seq for e in got_first] == list(range(1, 21))
    assert [e.payload["n"] for e in got_first] == list(range(20))
    assert got_second == got_first
    assert got_first[0].event == "chat:message" and got_first[0].room == "episode:1"


async def test_signals_reach_every_node_unstamped_and_are_not_kept_for_catch_up(bus_factory: BusFactory) -> None:
    here = bus_factory()
    there = here if isinstance(here, InProcessBus) else bus_factory()  # another process, on Redis
    async with there.subscribe("episode:1") as listener:
        await here.publish("episode:1", "chat:message", {"n": 1})
        await here.signal("episode:1", "chat:reactions", {"counts": {"🔥": 3}})
        await here.publish("episode:1", "chat:message", {"n": 2})
        got = await take(listener, 3)
    assert [(e.event, e.seq) for e in got] == [("chat:message", 1), ("chat:reactions", 0), ("chat:message", 2)]
    assert got[1].payload == {"counts": {"🔥": 3}}
    assert [e.seq for e in await here.since("episode:1", 0) or []] == [1, 2]
    assert await here.last_seq("episode:1") == 2


async def test_each_room_has_its_own_sequence_and_subscribers(bus_factory: BusFactory) -> None:
    bus = bus_factory()
    async with bus.subscribe("episode:a") as in_a:
        await bus.publish("episode:b", "pin:shown", {"x": 1})
        await bus.publish("episode:a", "pin:shown", {"x": 2})
        await bus.publish("episode:b", "pin:shown", {"x": 3})
        (event,) = await take(in_a, 1)
    assert (event.seq, event.payload) == (1, {"x": 2})
    assert await bus.last_seq("episode:b") == 2
    assert await bus.last_seq("episode:never") == 0


async def test_catch_up_returns_exactly_the_missed_events(bus_factory: BusFactory) -> None:
    bus = bus_factory()
    for n in range(10):
        await bus.publish("room", "chat:message", {"n": n})
    missed = await bus.since("room", 6)
    assert missed is not None
    assert [e.seq for e in missed] == [7, 8, 9, 10]
    assert [e.payload["n"] for e in missed] == [6, 7, 8, 9]
    assert await bus.since("room", 10) == []


async def test_catch_up_too_far_behind_asks_for_a_snapshot(bus_factory: BusFactory) -> None:
    bus = bus_factory(log_size=10)
    for n in range(200):
        await bus.publish("room", "chat:message", {"n": n})
    assert await bus.since("room", 3) is None
    # A seq from the future (e.g. the log was reset) cannot be caught up either.
    assert await bus.since("room", 500) is None
    recent = await bus.since("room", 195)
    assert recent is not None and [e.seq for e in recent] == [196, 197, 198, 199, 200]


async def test_a_subscriber_that_cannot_keep_up_is_told_where_it_stopped(bus_factory: BusFactory) -> None:
    bus = bus_factory()
    async with bus.subscribe("room", max_queue=5) as slow:
        for n in range(12):
            await bus.publish("room", "chat:message", {"n": n})
        if isinstance(bus, RedisBus):
            await asyncio.sleep(0.3)  # let the listener hand over what Redis sent
        received = []
        with pytest.raises(SubscriberTooSlow) as stopped:
            async with asyncio.timeout(5):
                async for event in slow:
                    received.append(event.seq)
    assert received == [1, 2, 3, 4, 5]
    assert stopped.value.last_seq == 5
    rest = await bus.since("room", stopped.value.last_seq)
    assert rest is not None and [e.seq for e in rest] == list(range(6, 13))


async def test_two_buses_share_rooms_like_two_app_processes(redis_only_url: str, redis_prefix: str) -> None:
    clients = [Redis.from_url(redis_only_url) for _ in range(2)]
    one, two = (RedisBus(client, prefix=redis_prefix) for client in clients)
    async with one.subscribe("room") as on_one, two.subscribe("room") as on_two:
        await one.publish("room", "chat:message", {"from": "one"})
        await two.publish("room", "chat:message", {"from": "two"})
        assert [(e.seq, e.payload["from"]) for e in await take(on_one, 2)] == [(1, "one"), (2, "two")]
        assert [(e.seq, e.payload["from"]) for e in await take(on_two, 2)] == [(1, "one"), (2, "two")]
    for bus, client in zip((one, two), clients, strict=True):
        await bus.close()
        await client.aclose()


SUBSCRIBER = """
import asyncio, json, sys
from redis.asyncio import Redis
from shopcast.core.bus import RedisBus

async def main(url, prefix, count):
    client = Redis.from_url(url)
    bus = RedisBus(client, prefix=prefix)
    async with bus.subscribe("episode:42") as events:
        print("ready", flush=True)
        for _ in range(count):
            event = await asyncio.wait_for(anext(events), 10)
            print(json.dumps({"seq": event.seq, "event": event.event, "payload": event.payload}), flush=True)
    await bus.close()
    await client.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_subscribers_in_two_other_processes_get_the_same_stream(redis_only_url: str, redis_prefix: str) -> None:
    redis_url = redis_only_url
    count = 25
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", SUBSCRIBER, redis_url, redis_prefix, str(count), stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        async with asyncio.timeout(20):
            for process in processes:
                assert (await process.stdout.readline()).strip() == b"ready"
            client = Redis.from_url(redis_url)
            bus = RedisBus(client, prefix=redis_prefix)
            for n in range(count):
                await bus.publish("episode:42", "chat:message", {"n": n})
            await bus.close()
            await client.aclose()
            streams = []
            for process in processes:
                out, _ = await process.communicate()
                streams.append([json.loads(line) for line in out.decode().splitlines()])
                assert process.returncode == 0
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
    expected = [{"seq": n + 1, "event": "chat:message", "payload": {"n": n}} for n in range(count)]
    assert streams == [expected, expected]
