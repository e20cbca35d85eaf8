"""Nothing of a show is lost when the server restarts in the middle of it."""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from aiortc import RTCSessionDescription

from shopcast.core.bus import InProcessBus
from shopcast.core.db import Database, create_engine
from shopcast.core.security import Role
from shopcast.live.broadcasts import Broadcasts
from shopcast.web.app import create_app
from shopcast.web.context import SETTINGS
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory
from tests.live.webrtc_peers import LOOPBACK, eventually, peer, publisher_offer

SEGMENT = re.compile(r"^(seg\d{5}\.ts)$", re.M)


def stale_playlist(folder: Path) -> Path:
    """The playlist a crashed packager leaves: segments listed, no end, not written for a while."""
    folder.mkdir(parents=True)
    (folder / "seg00000.ts").write_bytes(b"\x47" * 188)
    playlist = folder / "index.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.000000,\nseg00000.ts\n"
    )
    old = time.time() - 600
    os.utime(playlist, (old, old))
    return playlist


async def test_a_host_publishing_after_a_restart_continues_the_recording(tmp_path: Path) -> None:
    async def nothing(_: uuid.UUID) -> None:
        return None

    def registry() -> Broadcasts:
        return Broadcasts(
            LOOPBACK,
            bus=InProcessBus(),
            grace_seconds=5,
            on_publisher_gone=nothing,
            hls_root=tmp_path,
            hls_segment_seconds=1,
        )

    episode = uuid.uuid4()
    playlist = tmp_path / str(episode) / "index.m3u8"

    async def broadcast_for(process: Broadcasts, at_least: int) -> None:
        host = peer()
        session = await process.publish(episode, await publisher_offer(host))
        await host.setRemoteDescription(RTCSessionDescription(session.answer, "answer"))
        await eventually(lambda: playlist.exists() and len(SEGMENT.findall(playlist.read_text())) >= at_least)
        await process.close()  # the process goes away
        await host.close()

    await broadcast_for(registry(), 2)
    first_part = SEGMENT.findall(playlist.read_text())
    kept = {name: (tmp_path / str(episode) / name).read_bytes() for name in first_part}
    await broadcast_for(registry(), len(first_part) + 2)  # a new process, the same show
    whole = playlist.read_text()
    assert SEGMENT.findall(whole)[: len(first_part)] == first_part
    assert len(SEGMENT.findall(whole)) >= len(first_part) + 2
    assert {name: (tmp_path / str(episode) / name).read_bytes() for name in first_part} == kept
    assert "#EXT-X-DISCONTINUITY" in whole.split(first_part[-1])[1]
    assert whole.count("#EXT-X-ENDLIST") == 1 and whole.rstrip().endswith("#EXT-X-ENDLIST")


async def test_ending_a_show_whose_packager_crashed_finishes_its_replay(client, factory: Factory) -> None:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    episode_id = (await factory.episodes(show["id"], manager))[0]["id"]
    assert (await client.post(f"/api/v1/episodes/{episode_id}/start", headers=manager.headers)).status == 200
    playlist = stale_playlist(client.app[SETTINGS].data_dir / "hls" / episode_id)
    assert (await client.post(f"/api/v1/episodes/{episode_id}/end", headers=manager.headers)).status == 200
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    replay = await client.get(f"/live/{episode_id}/hls/index.m3u8")
    assert replay.headers["Cache-Control"] == "public, max-age=3600"


async def test_a_show_left_on_air_by_a_restart_ends_after_the_grace_period(
    aiohttp_client: Any, tmp_path: Path, database_url: str, clock: SettableClock
) -> None:
    # The embedded setup (one process, in-process bus), on either database.
    settings = make_settings(tmp_path, database_url=database_url, publisher_grace_seconds=1)
    before_restart = await aiohttp_client(create_app(settings, clock=clock))
    database = Database(create_engine(settings.effective_database_url))
    try:
        factory = Factory(before_restart, database, clock.now())
        await factory.brand("acme")
        manager = await factory.staff("acme", Role.MANAGER)
        show = await factory.show("acme", manager)
        episode_id = (await factory.episodes(show["id"], manager))[0]["id"]
        await before_restart.post(f"/api/v1/episodes/{episode_id}/start", headers=manager.headers)
        playlist = stale_playlist(settings.data_dir / "hls" / episode_id)
    finally:
        await database.close()

    after_restart = await aiohttp_client(create_app(settings, clock=clock))

    async def status() -> str:
        return (await (await after_restart.get(f"/api/v1/public/episodes/{episode_id}")).json())["status"]

    assert await status() == "live"  # the host has the grace period to come back
    async with asyncio.timeout(20):
        while await status() != "ended":  # noqa: ASYNC110 - the API is polled
            await asyncio.sleep(0.2)
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
