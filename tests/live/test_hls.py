"""HLS while live and as the replay: real segments, decodable, with video and audio."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import RTCSessionDescription

from shopcast.core.security import Role
from shopcast.web.app import create_app
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory
from tests.live.broadcasting import broadcast_of, go_live
from tests.live.webrtc_peers import Viewer, peer, publisher_offer

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock) -> Any:
    """The app with one-second segments, so a test needs only a few seconds of video."""
    return await aiohttp_client(create_app(make_settings(tmp_path, hls_segment_seconds=1, **backend), clock=clock))


def segments(playlist: str) -> list[str]:
    return re.findall(r"^(seg\d{5}\.ts)$", playlist, re.M)


async def playlist_with(client: Any, path: str, count: int) -> str:
    async with asyncio.timeout(40):
        while True:
            response = await client.get(path)
            if response.status == 200:
                text = await response.text()
                if len(segments(text)) >= count:
                    return text
            await asyncio.sleep(0.3)


def decode(segment: bytes) -> dict[str, Any]:
    with av.open(io.BytesIO(segment), format="mpegts") as container:
        kinds = {s.type: s.codec_context.name for s in container.streams}
        pictures = [f for f in container.decode(video=0)]
    return {"kinds": kinds, "pictures": pictures}


async def test_the_show_is_on_hls_while_live_and_stays_as_the_replay(client, factory: Factory) -> None:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    episode_id = (await factory.episodes(show["id"], manager))[0]["id"]
    hls = f"/live/{episode_id}/hls/index.m3u8"
    before = await client.get(hls)
    assert (before.status, (await before.json())["detail"]) == (404, "no HLS for this episode yet")

    host = peer()
    response = await client.post(
        f"/live/{episode_id}/whip", data=await publisher_offer(host), headers={**SDP, **manager.headers}
    )
    assert response.status == 201, await response.text()
    session = response.headers["Location"]
    await host.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))

    live = await playlist_with(client, hls, 2)
    live_response = await client.get(hls)
    assert live_response.content_type == "application/vnd.apple.mpegurl"
    assert live_response.headers["Cache-Control"] == "no-cache"
    assert "#EXT-X-ENDLIST" not in live
    first = await client.get(f"/live/{episode_id}/hls/{segments(live)[0]}")
    assert first.status == 200 and first.content_type == "video/mp2t"
    assert "immutable" in first.headers["Cache-Control"]
    decoded = decode(await first.read())
    assert decoded["kinds"] == {"video": "h264", "audio": "aac"}
    assert decoded["pictures"] and {(p.width, p.height) for p in decoded["pictures"]} == {(640, 480)}

    assert (await client.delete(session, headers=manager.headers)).status == 200
    await host.close()
    replay = await (await client.get(hls)).text()
    assert replay.rstrip().endswith("#EXT-X-ENDLIST")
    assert len(segments(replay)) >= len(segments(live))
    for name in segments(replay):
        segment = await client.get(f"/live/{episode_id}/hls/{name}")
        assert segment.status == 200
    last = decode(await (await client.get(f"/live/{episode_id}/hls/{segments(replay)[-1]}")).read())
    assert last["kinds"]["video"] == "h264"
    assert (await client.get(hls)).headers["Cache-Control"] == "public, max-age=3600"


async def test_only_hls_files_are_served(client) -> None:
    for name in ("..%2F..%2Fsecret_key", "index.m3u8.bak", "seg1.ts", "secret_key"):
        response = await client.get(f"/live/6f1c3a8e-0000-4000-8000-000000000000/hls/{name}")
        assert (response.status, (await response.json())["detail"]) == (404, "no such HLS file"), name
    response = await client.get("/live/not-an-id/hls/index.m3u8")
    assert (response.status, (await response.json())["detail"]) == (404, "no such episode")


async def test_a_host_without_a_microphone_is_live_with_video_only(client, factory: Factory) -> None:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    episode_id = (await factory.episodes(show["id"], manager))[0]["id"]
    host, session = await go_live(client, manager, episode_id, audio=False)
    studio = await broadcast_of(client, manager, episode_id)
    assert studio == {"on_air": True, "publisher_connected": True, "viewers": 0}

    # A viewer offering to take sound too gets the picture, and no sound track that never plays.
    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    assert watched.status == 201, await watched.text()
    await viewer.accept(await watched.text())
    frames = await viewer.frames("video", 5)
    assert (frames[-1].width, frames[-1].height) == (640, 480)
    assert "audio" not in viewer.tracks

    # HLS is explicitly video-only: segments with one H.264 stream, no silent audio made up.
    hls = f"/live/{episode_id}/hls/index.m3u8"
    live = await playlist_with(client, hls, 1)
    decoded = decode(await (await client.get(f"/live/{episode_id}/hls/{segments(live)[0]}")).read())
    assert decoded["kinds"] == {"video": "h264"}
    assert decoded["pictures"]
    await viewer.pc.close()
    assert (await client.delete(session, headers=manager.headers)).status == 200
    await host.close()
    assert (await (await client.get(hls)).text()).rstrip().endswith("#EXT-X-ENDLIST")
