"""The 19:00 rush past what a process answers at once: a join beyond SHOPCAST_JOIN_QUEUE_MOST is refused
at once as busy, told in its ack when to come back (`retry_after`), and gets in when it does; a
viewer coming back after a lost connection still gets exactly what it missed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from tests.chat.conftest import Join, Room
from tests.conftest import make_settings
from tests.live_room import Viewer, assert_busy, database_taken, line_filled, send


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    # One join answered at a time, and one database connection: a test that holds it keeps a join
    # under way, and the next one finds the line full.
    return make_settings(tmp_path, **backend, join_queue_most=1, database_pool_size=1)


async def connected(client: Any, **options: Any) -> Viewer:
    viewer = Viewer()
    await viewer.connect(client, None, **options)
    return viewer


async def test_a_join_past_the_line_is_told_when_to_come_back_and_gets_in_then(
    join: Join, room: Room, client: Any
) -> None:
    host = await join(room.host)
    await send(host, room.episode_id, "welcome everyone")
    joining = {"episode_id": room.episode_id}
    zoe = await connected(client, lang="fr")
    viewers = [zoe]
    try:
        async with database_taken(client.app):
            refused, error, waiting, its_join = await line_filled(str(client.make_url("/")), room.episode_id)
            viewers += [refused, waiting]
            seconds = assert_busy(error)
            assert error["title"] == "Busy, try again shortly"
            assert error["detail"] == f"lots of viewers are arriving at once: join again in {seconds} s"
            # Still full: a French page is told the same, in French.
            error = (await zoe.call("join", joining))["error"]
            seconds = assert_busy(error)
            assert error["title"] == "Serveur occupé, réessayez dans un instant"
            assert error["detail"] == (
                "beaucoup de spectateurs arrivent en même temps\N{NO-BREAK SPACE}: "
                f"rejoignez le direct dans {seconds} s"
            )
        # The database free again: the join that waited is in, and those told to come back get in.
        acks = [await its_join, await refused.call("join", joining), await zoe.call("join", joining)]
        for ack in acks:
            assert ack["ok"], ack
            assert [m["text"] for m in ack["snapshot"]["chat"]] == ["welcome everyone"]
        await host.wait_for("presence:count", viewers=3)
    finally:
        for viewer in viewers:
            await viewer.sio.disconnect()


async def test_a_viewer_refused_on_its_way_back_gets_what_it_missed_when_it_comes_back(
    join: Join, room: Room, client: Any
) -> None:
    host, lea = await join(room.host), await join("Lea")
    before = await send(host, room.episode_id, "before the drop")
    await lea.wait_for("chat:message", message=before)
    last_seq = lea.log[-1][1]["seq"]
    await lea.sio.disconnect()
    missed = [await send(host, room.episode_id, f"while Lea was away {n}") for n in range(2)]
    back = Viewer()
    await back.connect(client, lea.token)
    viewers = [back]
    try:
        async with database_taken(client.app):
            refused, error, waiting, its_join = await line_filled(str(client.make_url("/")), room.episode_id)
            viewers += [refused, waiting]
            assert_busy(error)
            rejoining = {"episode_id": room.episode_id, "last_seq": last_seq}
            assert_busy((await back.call("join", rejoining))["error"])
        assert (await its_join)["ok"]
        ack = await back.call("join", rejoining)
        assert ack["ok"], ack
        assert [e["payload"]["message"] for e in ack["missed"] if e["event"] == "chat:message"] == missed
    finally:
        for viewer in viewers:
            await viewer.sio.disconnect()


async def test_the_brands_staff_are_not_told_to_wait(join: Join, room: Room, client: Any) -> None:
    """The host's studio and the moderators join during the rush like everyone, and the show needs
    them in: they are never refused as busy, only answered when the process can."""
    moderator = Viewer()
    await moderator.connect(client, room.moderator.token)
    viewers = [moderator]
    try:
        async with database_taken(client.app):
            refused, error, waiting, its_join = await line_filled(str(client.make_url("/")), room.episode_id)
            viewers += [refused, waiting]
            assert_busy(error)
            studio = asyncio.create_task(moderator.call("join", {"episode_id": room.episode_id}))
        assert (await studio)["ok"]  # refused, it would have been answered at once with the viewers
        assert (await its_join)["ok"]
    finally:
        for viewer in viewers:
            await viewer.sio.disconnect()
