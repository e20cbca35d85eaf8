"""An app that stops: its viewers are told, and it leaves in Redis only what is meant to outlive it."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as redis

from tests.chat.conftest import Join, Room, join, room  # noqa: F401  (the live room's fixtures)
from tests.conftest import REDIS_URL, keys_under
from tests.live_room import send


@pytest.mark.parametrize("backend", ["postgresql+redis"], indirect=True)
async def test_a_stopping_app_tells_its_viewers_and_leaves_in_redis_only_what_expires(
    client: Any,
    join: Join,  # noqa: F811
    room: Room,  # noqa: F811
    redis_prefix: str,
) -> None:
    lea = await join("Lea")
    tom = await join("Tom")
    await send(lea, room.episode_id, "hello")
    await lea.wait_for("presence:count", viewers=2)  # this process's count is in Redis
    await client.close()  # stops with its viewers still connected, as a deploy does
    # Told to come back (pages wait a little, spread out) rather than cut off when the process ends.
    assert lea.goodbye == tom.goodbye == lea.sio.reason.SERVER_DISCONNECT
    store = redis.Redis.from_url(REDIS_URL)
    try:
        keys = await keys_under(store, redis_prefix)
        left = {key.decode().removeprefix(redis_prefix): await store.ttl(key) for key in keys}
    finally:
        await store.aclose()
    # The room's seq and log let viewers catch up after a restart; a rate limit holds across one.
    assert {key for key in left if not key.startswith("window:")} == {
        f"bus:episode:{room.episode_id}:seq",
        f"bus:episode:{room.episode_id}:log",
    }
    assert all(ttl > 0 for ttl in left.values()), left  # every one of them expires
