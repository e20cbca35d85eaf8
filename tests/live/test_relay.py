"""The relay forwards the host's encoded packets to every viewer, on loopback only."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from shopcast.core.bus import InProcessBus
from shopcast.core.errors import BadRequest, Conflict, UnsupportedMediaType
from shopcast.live.broadcasts import Broadcasts, Session
from shopcast.live.network import offered_candidates
from tests.live.webrtc_peers import LOOPBACK, Viewer, eventually, peer, publisher_offer


@pytest.fixture
async def broadcasts() -> AsyncIterator[Broadcasts]:
    gone: list[uuid.UUID] = []

    async def on_gone(episode_id: uuid.UUID) -> None:
        gone.append(episode_id)

    registry = Broadcasts(LOOPBACK, bus=InProcessBus(), grace_seconds=1.0, on_publisher_gone=on_gone)
    registry.gone = gone  # type: ignore[attr-defined]
    yield registry
    await registry.close()


async def go_live(
    broadcasts: Broadcasts, episode_id: uuid.UUID, codec: str | None = None
) -> tuple[RTCPeerConnection, Session]:
    host = peer()
    session = await broadcasts.publish(episode_id, await publisher_offer(host, codec=codec))
    await host.setRemoteDescription(RTCSessionDescription(session.answer, "answer"))
    await eventually(lambda: broadcasts.stats(episode_id).frames_in["video"] > 5)
    return host, session


async def test_two_viewers_decode_the_hosts_video_from_one_set_of_packets(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, session = await go_live(broadcasts, episode)
    assert offered_candidates(session.answer) and set(offered_candidates(session.answer)) == {"127.0.0.1"}
    viewers = [Viewer(peer()) for _ in range(2)]
    try:
        for viewer in viewers:
            answer = (await broadcasts.watch(episode, await viewer.offer())).answer
            assert set(offered_candidates(answer)) == {"127.0.0.1"}
            await viewer.accept(answer)
        for viewer in viewers:
            frames = await viewer.frames("video", 10)
            assert {(f.width, f.height) for f in frames} == {(640, 480)}
            audio = await viewer.frames("audio", 5)
            assert audio[0].sample_rate == 48000
        stats = broadcasts.stats(episode)
        assert stats is not None and stats.viewers == 2 and stats.encoders == 0
        # Each frame from the host became one packet, handed to both viewers.
        assert stats.deliveries["video"] > stats.packets_created["video"] * 1.5
        assert stats.packets_created["video"] <= stats.frames_in["video"]
    finally:
        for viewer in viewers:
            await viewer.pc.close()
        await host.close()


async def test_offers_that_cannot_work_are_refused_with_a_reason(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    with pytest.raises(BadRequest, match="not an SDP offer"):
        await broadcasts.publish(episode, "hello")
    with pytest.raises(BadRequest, match="larger than"):
        await broadcasts.publish(episode, "v=0\r\n" + "a=x\r\n" * 20000)
    pcmu_only = (await publisher_offer(peer())).replace("VP8/90000", "XYZ/90000").replace("H264/90000", "XYZ/90000")
    with pytest.raises(UnsupportedMediaType, match="VP8 or H264"):
        await broadcasts.publish(episode, pcmu_only)
    with pytest.raises(Conflict, match="not on air"):
        await broadcasts.watch(episode, await Viewer(peer()).offer())


async def test_a_second_publisher_is_refused_while_the_first_is_connected(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, _ = await go_live(broadcasts, episode)
    try:
        with pytest.raises(Conflict, match="already publishing"):
            await broadcasts.publish(episode, await publisher_offer(peer()))
    finally:
        await host.close()


async def test_late_joiners_ask_the_host_for_a_keyframe_at_most_once_a_second(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, _ = await go_live(broadcasts, episode)
    viewers = [Viewer(peer()) for _ in range(4)]
    try:
        asked_before = broadcasts.stats(episode).keyframes_asked_of_publisher
        started = time.monotonic()
        for viewer in viewers:
            await viewer.accept((await broadcasts.watch(episode, await viewer.offer())).answer)
        # Every late joiner starts on a keyframe (a VP8 decoder cannot start on a delta frame)...
        for viewer in viewers:
            (first,) = await viewer.frames("video", 1)
            assert first.width == 640
        stats = broadcasts.stats(episode)
        elapsed = time.monotonic() - started
        # ...yet the host is asked at most once a second however many join: one ask at the first
        # join, then at most one per second that passed (on a loaded machine the joins spread out).
        assert stats.keyframe_requests >= 4
        assert stats.keyframes_asked_of_publisher - asked_before <= 1 + math.floor(elapsed)
    finally:
        for viewer in viewers:
            await viewer.pc.close()
        await host.close()


async def test_a_host_who_vanishes_ends_the_show_after_the_grace_period(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, _ = await go_live(broadcasts, episode)
    await host.close()
    await eventually(lambda: episode in broadcasts.gone, within=30)  # type: ignore[attr-defined]


async def test_a_host_who_comes_back_in_time_keeps_the_viewers(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, _ = await go_live(broadcasts, episode)
    viewer = Viewer(peer())
    await viewer.accept((await broadcasts.watch(episode, await viewer.offer())).answer)
    await viewer.frames("video", 3)
    await host.close()
    await asyncio.sleep(0.3)
    host, _ = await go_live(broadcasts, episode)  # a new connection, within the grace period
    try:
        frames = await viewer.frames("video", 10)
        assert frames[-1].width == 640
        assert episode not in broadcasts.gone  # type: ignore[attr-defined]
    finally:
        await viewer.pc.close()
        await host.close()


async def test_nothing_leaks_after_twenty_viewers_come_and_go(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, _ = await go_live(broadcasts, episode)
    tasks_before = len(asyncio.all_tasks())
    try:
        for _ in range(20):
            viewer = Viewer(peer())
            session = await broadcasts.watch(episode, await viewer.offer())
            await viewer.accept(session.answer)
            await viewer.frames("video", 1)
            await broadcasts.leave(episode, session.id)
            await viewer.pc.close()
        await asyncio.sleep(0.5)
        stats = broadcasts.stats(episode)
        assert stats.viewers == 0
        assert broadcasts.open_connections() == 1  # the host's
        assert len(asyncio.all_tasks()) <= tasks_before + 2
    finally:
        await host.close()
    await broadcasts.end(episode)
    assert broadcasts.open_connections() == 0 and not broadcasts.carries(episode)


async def test_an_h264_host_reaches_viewers_in_h264_and_a_vp8_only_viewer_is_told(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, session = await go_live(broadcasts, episode, codec="video/H264")
    assert "H264/90000" in session.answer and "VP8/90000" not in session.answer
    viewer = Viewer(peer())
    try:
        answer = (await broadcasts.watch(episode, await viewer.offer())).answer
        assert "H264/90000" in answer and "VP8/90000" not in answer
        await viewer.accept(answer)
        frames = await viewer.frames("video", 5)
        assert (frames[-1].width, frames[-1].height) == (640, 480)
        with pytest.raises(UnsupportedMediaType, match="video/H264"):
            await broadcasts.watch(episode, await Viewer(peer()).offer(codec="video/VP8"))
    finally:
        await viewer.pc.close()
        await host.close()


async def test_a_viewers_picture_loss_report_reaches_the_host(broadcasts: Broadcasts) -> None:
    episode = uuid.uuid4()
    host, _ = await go_live(broadcasts, episode)
    viewer = Viewer(peer())
    try:
        await viewer.accept((await broadcasts.watch(episode, await viewer.offer())).answer)
        await viewer.frames("video", 3)
        await asyncio.sleep(1.1)  # past the keyframe interval of the join
        before = broadcasts.stats(episode)
        # The viewer's receiver sends a real RTCP PLI over the network, as a browser does on loss.
        receiver = next(t.receiver for t in viewer.pc.getTransceivers() if t.kind == "video")
        (source,) = receiver.getSynchronizationSources()
        await receiver._send_rtcp_pli(source.source)
        await eventually(
            lambda: broadcasts.stats(episode).keyframes_asked_of_publisher > before.keyframes_asked_of_publisher
        )
        assert broadcasts.stats(episode).keyframe_requests == before.keyframe_requests + 1
    finally:
        await viewer.pc.close()
        await host.close()
