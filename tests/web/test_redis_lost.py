"""Redis gone for a moment (a network cut, a restart): a process's live rooms are not left deaf, and a
join that cannot be answered meanwhile is told to come back instead of being left without an answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.security import Role
from shopcast.core.settings import Settings
from shopcast.web.context import RESOURCES
from tests.conftest import make_settings
from tests.factories import Factory
from tests.live_room import Viewer
from tests.redis_line import RedisLine


@pytest.fixture
async def line(redis_only_url: str) -> AsyncIterator[RedisLine]:
    line = RedisLine(redis_only_url)
    await line.start()
    yield line
    await line.close()


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any], line: RedisLine) -> Settings:
    return make_settings(tmp_path, **{**backend, "redis_url": line.url})


async def joined(viewer: Viewer, episode_id: str) -> dict[str, Any]:
    """Join as the watch page does after a refusal: again, until let in (half a minute at most)."""
    async with asyncio.timeout(30):
        while not (ack := await viewer.call("join", {"episode_id": episode_id}))["ok"]:
            assert ack["error"]["status"] == 503, ack
            await asyncio.sleep(0.5)
    return ack


@pytest.mark.parametrize("backend", ["postgresql+redis"], indirect=True)
async def test_a_room_first_joined_while_redis_is_away_is_heard_once_it_is_back(
    client: Any, factory: Factory, line: RedisLine
) -> None:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    first, second = [e["id"] for e in (await factory.episodes(show["id"], manager))[:2]]
    bus = client.app[RESOURCES].bus
    lea, tom = Viewer(), Viewer()
    await lea.connect(client, (await factory.guest("Lea"))["Authorization"][7:])
    await tom.connect(client, (await factory.guest("Tom"))["Authorization"][7:])
    try:
        await joined(lea, first)

        line.cut()
        # No room of this process hears Redis now; one nobody here followed yet cannot be followed.
        refused = await tom.call("join", {"episode_id": second})
        assert refused["ok"] is False and refused["error"]["status"] == 503, refused
        assert refused["error"]["retry_after"] >= 1

        line.mend()
        await joined(tom, second)
        await bus.publish(f"episode:{second}", "chat:message", {"n": 1})
        assert (await tom.wait_for("chat:message"))["n"] == 1
        # The room followed before the cut hears again as well.
        async with asyncio.timeout(15):
            while not lea.events("chat:message"):
                await bus.publish(f"episode:{first}", "chat:message", {"n": 2})
                await asyncio.sleep(0.2)
    finally:
        for viewer in (lea, tom):
            await viewer.sio.disconnect()
