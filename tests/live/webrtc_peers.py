"""aiortc peers that act as a host's encoder and as viewers, on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack

from shopcast.live.network import WebRtcNetwork

LOOPBACK = WebRtcNetwork(ice_servers=[], hosts=["127.0.0.1"], peer_networks=[ipaddress.ip_network("127.0.0.0/8")])


def peer() -> RTCPeerConnection:
    LOOPBACK.install()
    return RTCPeerConnection(LOOPBACK.configuration())


async def publisher_offer(pc: RTCPeerConnection, *, audio: bool = True, codec: str | None = None) -> str:
    """A host sending aiortc's synthetic 640x480 video (and silence), in `codec` if given."""
    pc.addTrack(VideoStreamTrack())
    if audio:
        pc.addTrack(AudioStreamTrack())
    if codec is not None:
        prefer(pc, codec)
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


@dataclass
class Viewer:
    pc: RTCPeerConnection
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    arrived: dict[str, asyncio.Event] = field(
        default_factory=lambda: {"video": asyncio.Event(), "audio": asyncio.Event()}
    )

    async def offer(self, codec: str | None = None) -> str:
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        if codec is not None:
            prefer(self.pc, codec)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tracks[track.kind] = track
            self.arrived[track.kind].set()

        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    def skip_decoded(self, kind: str) -> None:
        """Drop the frames decoded so far and not read yet: aiortc keeps every one until it is read, so a
        picture that stopped would still seem to play from them. The next `frames` are new ones."""
        if kind in self.tracks:
            queue = self.tracks[kind]._queue  # type: ignore[attr-defined]  # RemoteStreamTrack's: no public way
            while not queue.empty():
                queue.get_nowait()

    async def frames(self, kind: str, count: int) -> list:
        """The next `count` decoded frames (within 20 s)."""
        async with asyncio.timeout(20):
            await self.arrived[kind].wait()
            return [await self.tracks[kind].recv() for _ in range(count)]


async def eventually(condition: Callable[[], bool], *, within: float = 20) -> None:
    """Wait until `condition()` holds: for state only observable by looking (stats, callbacks)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - nothing to await: the state is polled
            await asyncio.sleep(0.05)


def prefer(pc: RTCPeerConnection, mime_type: str) -> None:
    """Make every video transceiver of `pc` offer only `mime_type` (and its retransmission)."""
    from aiortc import RTCRtpSender

    codecs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in (mime_type, "video/rtx")]
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(codecs)
