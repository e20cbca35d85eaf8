"""The host's encoded media, forwarded untouched to every viewer: no decoder or encoder per viewer.

aiortc receivers always decode and have no public way to read encoded frames, so the relay
stands in for the receiver's decoder queue (`_RTCRtpReceiver__decoder_queue`) and sees each
reassembled frame; aiortc senders accept an encoded `av.Packet` and only packetise it
(`Encoder.pack`). Both are aiortc internals: aiortc is pinned, and tests/live/test_relay.py
fails if an upgrade moves them. Keyframe requests from viewers (PLI, late joiners) go to the
publisher, at most one per `min_keyframe_interval`, so no viewer can make everyone's stream heavier.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)


def is_keyframe(codec: str, data: bytes) -> bool:
    """Whether a viewer can start decoding at this frame."""
    if codec == "vp8":
        return bool(data) and data[0] & 0x01 == 0  # VP8 frame tag: P bit clear on key frames
    if codec == "h264":
        # Annex B: look for an IDR slice (5) or a sequence parameter set (7).
        index = data.find(b"\x00\x00\x01")
        while index != -1:
            if index + 3 < len(data) and data[index + 3] & 0x1F in (5, 7):
                return True
            index = data.find(b"\x00\x00\x01", index + 3)
        return False
    return True  # audio frames stand alone


@dataclass
class FanoutStats:
    frames_in: int = 0
    packets_created: int = 0
    deliveries: int = 0
    dropped: int = 0
    keyframe_requests: int = 0
    keyframes_asked_of_publisher: int = 0


class Fanout:
    """One kind of media (video or audio) of one publisher, handed to many viewers."""

    def __init__(self, kind: str, *, min_keyframe_interval: float = 1.0, max_queue: int = 120) -> None:
        self.kind = kind
        self.codec: str | None = None
        self.clock_rate: int | None = None
        self.stats = FanoutStats()
        self._tracks: set[ForwardedTrack] = set()
        self._min_interval = min_keyframe_interval
        self._last_ask = -1e9
        self._ask_publisher: Callable[[], None] | None = None
        self._deferred: asyncio.TimerHandle | None = None
        self._max_queue = max_queue
        self.closed = False

    def connect_publisher(self, ask_keyframe: Callable[[], None]) -> None:
        self._ask_publisher = ask_keyframe

    def publish(self, codec: str, clock_rate: int, data: bytes, timestamp: int) -> None:
        """One encoded frame from the publisher: wrapped once, handed to every viewer."""
        self.codec, self.clock_rate = codec, clock_rate
        self.stats.frames_in += 1
        if not self._tracks:
            return
        packet = av.Packet(data)
        packet.pts = timestamp
        packet.time_base = Fraction(1, clock_rate)
        self.stats.packets_created += 1
        keyframe = is_keyframe(codec, data)
        for track in tuple(self._tracks):
            track.deliver(packet, keyframe)

    def subscribe(self) -> ForwardedTrack:
        track = ForwardedTrack(self, self._max_queue)
        self._tracks.add(track)
        self.request_keyframe()  # a late joiner needs a picture to start from
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        self._tracks.discard(track)

    def request_keyframe(self) -> bool:
        """Ask the publisher for a keyframe now, or once the interval since the last ask is over.

        Requests within the interval are coalesced into one, never dropped: a host's encoder may
        send no keyframe for minutes, and a viewer whose request was dropped would see nothing.
        """
        self.stats.keyframe_requests += 1
        if self.kind != "video" or self._ask_publisher is None or self.closed:
            return False
        wait = self._last_ask + self._min_interval - time.monotonic()
        if wait > 0:
            if self._deferred is None:
                self._deferred = asyncio.get_running_loop().call_later(wait, self._ask_now)
            return False
        self._ask_now()
        return True

    def _ask_now(self) -> None:
        self._deferred = None
        if self.closed or self._ask_publisher is None:
            return
        self._last_ask = time.monotonic()
        self.stats.keyframes_asked_of_publisher += 1
        self._ask_publisher()

    def close(self) -> None:
        self.closed = True
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        for track in tuple(self._tracks):
            track.stop()
        self._tracks.clear()


class ForwardedTrack(MediaStreamTrack):
    """A viewer's copy of the stream: the shared packets, through a bounded queue."""

    def __init__(self, fanout: Fanout, max_queue: int) -> None:
        super().__init__()
        self.kind = fanout.kind
        self._fanout = fanout
        self._queue: asyncio.Queue[av.Packet | None] = asyncio.Queue(max_queue)
        # Delta frames before the first keyframe cannot be decoded: skip them.
        self._waiting_for_keyframe = fanout.kind == "video"

    def deliver(self, packet: av.Packet, keyframe: bool) -> None:
        if self._waiting_for_keyframe and not keyframe:
            self._fanout.stats.dropped += 1
            return
        if self._queue.full():
            # A viewer too slow for the stream starts again from the next keyframe.
            self._drain()
            self._fanout.stats.dropped += 1
            self._waiting_for_keyframe = self.kind == "video"
            self._fanout.request_keyframe()
            if self._waiting_for_keyframe and not keyframe:
                return
        self._waiting_for_keyframe = False
        self._queue.put_nowait(packet)
        self._fanout.stats.deliveries += 1

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None:
            raise MediaStreamError
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            self._fanout.unsubscribe(self)
            self._drain()
            self._queue.put_nowait(None)
        super().stop()


class _EncodedFrameTap(queue.Queue):  # type: ignore[type-arg]
    """Stands in for an aiortc receiver's decoder queue: each encoded frame goes to the fan-out."""

    def __init__(self, on_frame: Callable[[Any, Any], None], *, decode: bool) -> None:
        super().__init__()
        self._on_frame = on_frame
        self._decode = decode

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver is stopping: let its decoder thread end
            super().put(item, block, timeout)
            return
        codec, encoded_frame = item
        try:
            self._on_frame(codec, encoded_frame)
        except Exception:
            log.exception("relay dropped a frame it could not forward")
        if self._decode:
            # Decoded once, by aiortc's own decoder thread, for the one HLS encoder.
            super().put(item, block, timeout)


_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_SEND_KEYFRAME = "_send_keyframe"


def tap_receiver(receiver: RTCRtpReceiver, fanout: Fanout, *, decode: bool = False) -> Callable[[], None]:
    """Forward the receiver's encoded frames to `fanout` (call before the connection starts).

    With `decode`, aiortc also decodes them and the receiver's track yields the pictures and sound.
    Returns how to ask this receiver's sender for a keyframe: give it to the fan-out
    (`Fanout.connect_publisher`) once the connection is the publisher's, not before.
    """
    if not hasattr(receiver, _DECODER_QUEUE):
        raise RuntimeError("aiortc's receiver changed: the relay needs aiortc==1.16.0")

    def on_frame(codec: Any, encoded_frame: Any) -> None:
        fanout.publish(codec.name.lower(), codec.clockRate, encoded_frame.data, encoded_frame.timestamp)

    setattr(receiver, _DECODER_QUEUE, _EncodedFrameTap(on_frame, decode=decode))

    pending: set[asyncio.Future[None]] = set()

    def ask_keyframe() -> None:
        for source in receiver.getSynchronizationSources():
            request = asyncio.ensure_future(receiver._send_rtcp_pli(source.source))
            pending.add(request)
            request.add_done_callback(pending.discard)

    return ask_keyframe


def route_keyframe_requests(sender: RTCRtpSender, fanout: Fanout) -> None:
    """A viewer's picture-loss report asks the publisher (rate-limited), not a local encoder."""
    if not callable(getattr(sender, _SEND_KEYFRAME, None)):
        raise RuntimeError("aiortc's sender changed: the relay needs aiortc==1.16.0")
    setattr(sender, _SEND_KEYFRAME, fanout.request_keyframe)
