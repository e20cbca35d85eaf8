"""A viewer whose app process died (SIGKILL, a crash) stops counting as watching: the live processes
close the watch sessions it left open, as of when it was last heard from, so the report's watch time
and a draw's present viewers do not take them as watching until the show's end. The sessions of
processes still alive, this one's own included, are left alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from shopcast.chat import orphaned_sessions
from shopcast.chat.models import WatchingNode, WatchSession
from shopcast.core.db import Database
from tests.chat.conftest import Join, Room
from tests.conftest import SettableClock


async def audience(client: Any, room: Room) -> dict[str, Any]:
    response = await client.get(room.path("/audience"), headers=room.manager.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_sessions_of_a_process_that_died_are_closed_when_it_was_last_heard_from(
    client: Any, room: Room, join: Join, database: Database, clock: SettableClock
) -> None:
    tom = await join("Tom")  # on this process, alive
    now = clock.now()
    episode_id = uuid.UUID(room.episode_id)
    viewers = {"dead": uuid.uuid4(), "slow": uuid.uuid4(), "unnamed": uuid.uuid4()}
    async with database.transaction() as session:
        await session.execute(
            insert(WatchingNode),
            [
                # Last heard from 9 minutes ago: dead.
                {"id": "Dead0001", "seen_at": now - timedelta(minutes=9)},
                # Heard from 20 s ago: slow, within the LOST_SECONDS it is given.
                {"id": "Slow0001", "seen_at": now - timedelta(seconds=20)},
            ],
        )
        await session.execute(
            insert(WatchSession),
            [
                {"episode_id": episode_id, "viewer_kind": "guest", "viewer_id": viewer, "node": node}
                | {"joined_at": now - timedelta(minutes=10), "left_at": None}
                for node, viewer in (
                    ("Dead0001", viewers["dead"]),
                    ("Slow0001", viewers["slow"]),
                    (None, viewers["unnamed"]),  # from before processes were named: nobody to ask
                )
            ],
        )
    # Open, the four count up to now: 3 x 10 minutes, and Tom's moment.
    assert (await audience(client, room))["watch_seconds"] == 3 * 600

    async with asyncio.timeout(3 * orphaned_sessions.BEAT_SECONDS):  # this process's next beat
        while True:
            async with database.transaction() as session:
                left = dict((await session.execute(select(WatchSession.viewer_id, WatchSession.left_at))).all())
            if left[viewers["dead"]] is not None:
                break
            await asyncio.sleep(0.2)
    assert left[viewers["dead"]] == now - timedelta(minutes=9)
    assert left[viewers["slow"]] is None and left[viewers["unnamed"]] is None
    assert sum(1 for at in left.values() if at is None) == 3  # Tom's own too
    # The dead process's viewer watched one minute; the others up to now.
    assert (await audience(client, room))["watch_seconds"] == 60 + 2 * 600
    async with database.transaction() as session:
        nodes = set((await session.scalars(select(WatchingNode.id))).all())
    assert "Dead0001" not in nodes and "Slow0001" in nodes
    assert (await tom.call("leave", {"episode_id": room.episode_id}))["ok"]
