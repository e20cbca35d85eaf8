"""A viewer whose connection drops mid-show ends up with every message exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.chat.conftest import Join, Room
from tests.factories import Factory
from tests.live_room import Follower, send


async def test_a_dropped_connection_catches_up_without_gaps_or_duplicates(
    join: Join, room: Room, client: Any, factory: Factory
) -> None:
    host = await join(room.host)
    token = (await factory.guest("Lea"))["Authorization"][7:]
    lea = Follower(room.episode_id)
    await lea.connect(client, token)
    try:
        async with asyncio.timeout(30):
            await lea.joined.wait()
        sent: list[str] = []
        for n in range(60):
            sent.append((await send(host, room.episode_id, f"message {n}"))["id"])
            if n in (15, 40):
                async with asyncio.timeout(30):
                    await lea.joined.wait()  # back in the room since the last loss
                lea.joined.clear()
                # The phone loses its network: the transport dies under the client.
                lea.sio.eio.ws._writer.transport.abort()  # type: ignore[union-attr]
        async with asyncio.timeout(30):
            while [m["id"] for m in lea.messages] != sent:
                assert len(lea.messages) <= len(sent), "a message arrived twice"
                await asyncio.sleep(0.05)
        assert lea.joins >= 3, "each lost connection was followed by a rejoin"
    finally:
        await lea.sio.disconnect()
