"""HLS while live and as the replay: real segments, decodable, with video and audio."""

from __future__ import annotations

import asyncio
import io
import os
import re
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import MediaStreamTrack, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from shopcast.core.security import Role
from shopcast.live.hls import HlsPackager
from shopcast.web.app import create_app
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory
from tests.live.broadcasting import broadcast_of, go_live
from tests.live.webrtc_peers import Viewer, peer, publisher_offer

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock) -> Any:
    """The app as configured by default: one-second segments, so a test needs only a few seconds of video."""
    return await aiohttp_client(create_app(make_settings(tmp_path, **backend), clock=clock))


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
    assert live_response.headers["Cache-Control"] == "no-cache" and live_response.headers["ETag"]
    assert "#EXT-X-ENDLIST" not in live
    # Short segments: players stay about two target durations behind the newest one.
    assert "#EXT-X-TARGETDURATION:1\n" in live
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
    finished = await client.get(hls)
    assert finished.headers["Cache-Control"] == "public, max-age=3600"
    # A player or a CDN revalidating what it has gets "not modified", not the whole playlist again.
    unchanged = await client.get(hls, headers={"If-None-Match": finished.headers["ETag"]})
    assert unchanged.status == 304


async def test_only_hls_files_are_served(client) -> None:
    # Only the playlist and segments: never a file the packager is still writing (renamed once whole).
    for name in (
        "..%2F..%2Fsecret_key",
        "index.m3u8.bak",
        "seg1.ts",
        "secret_key",
        "seg00001.ts.tmp",
        "index.m3u8.tmp",
    ):
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


class Camera(MediaStreamTrack):
    """A host's camera at `fps` frames a second, as fast as the packager takes them (no waiting)."""

    kind = "video"

    def __init__(self, fps: float, seconds: float, on_frame: Callable[[], None]) -> None:
        super().__init__()
        self._fps, self._count, self._sent = fps, round(fps * seconds), 0
        self._on_frame = on_frame

    async def recv(self) -> av.VideoFrame:  # type: ignore[override]
        if self._sent == self._count:
            raise MediaStreamError
        await asyncio.sleep(0.002)
        self._on_frame()
        frame = av.VideoFrame(320, 240, "yuv420p")
        frame.pts, frame.time_base = round(self._sent * 90000 / self._fps), Fraction(1, 90000)
        self._sent += 1
        return frame


def listed(folder: Path) -> dict[str, bytes]:
    """What a player gets right now: the playlist's segments, each as served at this moment."""
    try:
        playlist = (folder / "index.m3u8").read_text()
    except FileNotFoundError:
        return {}
    return {name: (folder / name).read_bytes() for name in segments(playlist)}


def keyframes(segment: bytes) -> list[bool]:
    with av.open(io.BytesIO(segment), format="mpegts") as container:
        return [packet.is_keyframe for packet in container.demux(video=0) if packet.size]


@pytest.mark.parametrize("fps", [30, 15])
async def test_segments_are_one_second_each_starting_with_a_keyframe_whatever_the_frame_rate(
    tmp_path: Path, fps: int
) -> None:
    """A browser sends fewer frames a second when busy: the segments (and so the delay) stay as short."""
    folder = tmp_path / "episode"
    seen: list[dict[str, bytes]] = []
    packager = HlsPackager(folder, segment_seconds=1, has_audio=False)
    packager.attach(Camera(fps, 4.5, lambda: seen.append(listed(folder))), None)
    async with asyncio.timeout(60):
        while packager.stats.video_frames + packager.stats.dropped < round(fps * 4.5):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await packager.close()

    replay = (folder / "index.m3u8").read_text()
    assert "#EXT-X-TARGETDURATION:1\n" in replay and replay.rstrip().endswith("#EXT-X-ENDLIST")
    durations = [float(d) for d in re.findall(r"^#EXTINF:([\d.]+),", replay, re.M)]
    assert len(durations) == 5 and all(abs(d - 1) < 0.001 for d in durations[:-1]), durations
    # The replay is every segment, in order; each starts with a keyframe and holds no other.
    assert segments(replay) == [f"seg{n:05d}.ts" for n in range(5)]
    for name in segments(replay):
        assert keyframes((folder / name).read_bytes())[:2] == [True, False], name
    # Whenever a player looked during the show, every segment listed was already whole.
    final = {name: (folder / name).read_bytes() for name in segments(replay)}
    assert any(seen) and all(final[name] == data for snapshot in seen for name, data in snapshot.items())
    # Beside them only the clock of the recording (hls_clock.py), which the route never serves.
    assert sorted(p.name for p in folder.iterdir()) == ["clock.jsonl", "index.m3u8", *segments(replay)]


def event_playlist(count: int, *, ended: bool = False) -> str:
    """A playlist as the muxer writes it: one-second segments, the host reconnecting before the 17th."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
    lines += ["#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for n in range(count):
        lines += ["#EXT-X-DISCONTINUITY"] if n in (0, 16) else []
        lines += ["#EXTINF:1.000000,", f"seg{n:05d}.ts"]
    return "\n".join(lines + (["#EXT-X-ENDLIST"] if ended else [])) + "\n"


async def test_a_player_reloading_the_live_playlist_gets_only_its_end(client, tmp_path: Path) -> None:
    """Every segment stays listed for the replay, yet a reload costs the last few segments, not the whole show."""
    episode_id = "6f1c3a8e-0000-4000-8000-000000000001"
    playlist = tmp_path / "data" / "hls" / episode_id / "index.m3u8"
    playlist.parent.mkdir(parents=True)
    playlist.write_text(event_playlist(20))
    url = f"/live/{episode_id}/hls/index.m3u8"

    # Joining: the whole playlist, saying that delta updates may be asked for.
    full = await (await client.get(url)).text()
    assert "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=6.0\n" in full
    assert segments(full) == [f"seg{n:05d}.ts" for n in range(20)]

    # Reloading (hls.js and Safari ask with _HLS_skip=YES): the last six seconds, the rest skipped.
    response = await client.get(url, params={"_HLS_skip": "YES"})
    delta = await response.text()
    assert response.content_type == "application/vnd.apple.mpegurl"
    assert "#EXT-X-VERSION:9\n" in delta and "#EXT-X-MEDIA-SEQUENCE:0\n" in delta
    assert "#EXT-X-SKIP:SKIPPED-SEGMENTS=14\n" in delta and segments(delta) == segments(full)[14:]
    assert "#EXT-X-DISCONTINUITY\n#EXTINF:1.000000,\nseg00016.ts\n" in delta

    # Nothing new: "not modified". A new segment: the new delta.
    unchanged = await client.get(url, params={"_HLS_skip": "YES"}, headers={"If-None-Match": response.headers["ETag"]})
    assert unchanged.status == 304
    playlist.write_text(event_playlist(21))
    newer = await client.get(url, params={"_HLS_skip": "YES"}, headers={"If-None-Match": response.headers["ETag"]})
    assert newer.status == 200 and "#EXT-X-SKIP:SKIPPED-SEGMENTS=15\n" in await newer.text()
    assert segments(await newer.text())[-1] == "seg00020.ts"

    # The replay is the file as written: every segment, nothing skipped or added.
    playlist.write_text(event_playlist(21, ended=True))
    replay = await client.get(url, params={"_HLS_skip": "YES"})
    assert await replay.text() == event_playlist(21, ended=True)


async def test_a_live_segment_reaches_its_whole_audience_intact_as_does_the_replay_s(client, tmp_path: Path) -> None:
    """A live show's HLS audience asks for the newest segment all at once; the replay's are asked for later."""
    episode_id = "6f1c3a8e-0000-4000-8000-000000000002"
    folder = tmp_path / "data" / "hls" / episode_id
    folder.mkdir(parents=True)
    (folder / "index.m3u8").write_text(event_playlist(2))
    old, new = os.urandom(100_000), os.urandom(300_000)
    (folder / "seg00000.ts").write_bytes(old)
    an_hour_ago = time.time() - 3600
    os.utime(folder / "seg00000.ts", (an_hour_ago, an_hour_ago))
    (folder / "seg00001.ts").write_bytes(new)
    url = f"/live/{episode_id}/hls/seg{{:05d}}.ts"

    answers = await asyncio.gather(*(client.get(url.format(1)) for _ in range(40)))
    replay = await client.get(url.format(0))
    for response, data in [*((a, new) for a in answers), (replay, old)]:
        assert response.status == 200 and await response.read() == data
        assert response.content_type == "video/mp2t"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        # The same validators however it is served: a CDN revalidating its copy gets "not modified".
        unchanged = await client.get(response.url.path, headers={"If-None-Match": response.headers["ETag"]})
        assert unchanged.status == 304
    assert {a.headers["ETag"] for a in answers} == {answers[0].headers["ETag"]}
    # A player seeking in the replay may ask for part of a segment.
    part = await client.get(url.format(0), headers={"Range": "bytes=10-19"})
    assert part.status == 206 and await part.read() == old[10:20]
    missing = await client.get(url.format(2))
    assert (missing.status, (await missing.json())["detail"]) == (404, "no such segment")
