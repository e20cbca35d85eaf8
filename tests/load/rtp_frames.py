"""VP8 frames counted at the RTP level, for the WHEP benchmark's counting viewers.

A counting viewer is a real WebRTC peer: aiortc gathers its candidates, answers and sends ICE checks (and consent),
does the DTLS handshake and derives the SRTP keys. Only its media packets skip aiortc's receive path: `tap_srtp`
takes each SRTP packet off the ICE socket as it arrives (the first byte tells STUN, DTLS and RTP apart, RFC 7983,
as a browser's stack does), authenticates and decrypts it with that session's libsrtp keys, and hands the plain
packet to a `FrameCounter`. STUN, DTLS and RTCP go on to aioice and aiortc as before.

Why: aiortc hands every packet through two asyncio queues, a failed STUN parse and a Python RTP parser; at 150
viewers (21,000 packets a second) that alone took both cores of the benchmark machine, and the load generator, not
the relay, was what got measured. The tap does per packet what any receiver must (a datagram read, SRTP, the RTP
header and the VP8 payload descriptor) and nothing else.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import Any

import pylibsrtp

RTP_HEADER = struct.Struct("!BBHII")  # version/flags, marker/payload type, sequence number, timestamp, SSRC
SEQUENCE_SPAN = 65536
NEAR = 1000  # a jump in sequence numbers larger than this is a restart, not a loss


def tap_srtp(transceiver: Any, on_packet: Callable[[bytes], None]) -> None:
    """Hand each SRTP packet of `transceiver`'s transport, decrypted, to `on_packet` (after `setLocalDescription`,
    which makes the ICE sockets). Packets that fail authentication are dropped, as aiortc drops them."""
    dtls = transceiver.receiver.transport
    connection = getattr(dtls.transport, "_connection", None)
    if not hasattr(dtls, "_rx_srtp") or not hasattr(connection, "_protocols"):
        raise RuntimeError("aiortc's transports changed: the benchmark needs aiortc==1.16.0 and aioice==0.13.0")
    protocols = connection._protocols  # aioice's sockets, one per local candidate
    if not protocols:
        raise RuntimeError("no ICE socket to tap: call tap_srtp after setLocalDescription")
    for protocol in protocols:
        to_aioice = protocol.datagram_received

        def received(data: bytes, addr: tuple[Any, ...], to_aioice: Callable[..., None] = to_aioice) -> None:
            srtp = dtls._rx_srtp  # set once the DTLS handshake is done
            if srtp is None or not 127 < data[0] < 192 or 192 <= data[1] <= 208:  # not SRTP, or RTCP
                to_aioice(data, addr)
                return
            try:
                plain = srtp.unprotect(data)
            except pylibsrtp.Error:
                return
            on_packet(plain)

        protocol.datagram_received = received  # asyncio's datagram transport looks it up per datagram


class FrameCounter:
    """Complete VP8 frames of one RTP stream: a frame is complete when its first packet (the payload descriptor's
    S bit with partition 0), its last (the marker bit) and every sequence number between them arrived.

    `on_frame(timestamp, keyframe)` is called for each complete frame. Packets of a frame are kept (`keep`) only
    while the viewer still needs one keyframe's payload to read its stamp.
    """

    def __init__(self, on_frame: Callable[[int, bool], None]) -> None:
        self.on_frame = on_frame
        self.keep = False
        self.kept: list[tuple[int, bytes]] = []  # (sequence number, VP8 payload) of the frame being read
        self.ssrc: int | None = None
        self.losses: list[tuple[float, int]] = []  # (when, how many) packets were never seen: sequence gaps
        self.incompletes: list[float] = []  # when a frame ended with a packet missing
        self.keyframe_starts: list[float] = []  # when a keyframe's first packet arrived
        self._last_sequence: int | None = None
        self._timestamp: int | None = None  # the frame being read
        self._start: int | None = None  # its first packet's sequence number, once seen
        self._packets = 0
        self._keyframe = False
        self._ended = True  # its marker was seen (or nothing is being read)

    def packet(self, data: bytes) -> None:
        flags, marker_type, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
        offset = 12 + 4 * (flags & 0x0F)
        if flags & 0x10:  # header extensions (the relay's mid, abs-send-time...)
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        end = len(data) - (data[-1] if flags & 0x20 else 0)  # padding
        if offset >= end:
            return  # padding only: no media
        self.ssrc = ssrc
        if self._last_sequence is not None:
            gap = (sequence - self._last_sequence) % SEQUENCE_SPAN
            if 1 < gap < NEAR:
                self.losses.append((time.monotonic(), gap - 1))
        self._last_sequence = sequence

        if timestamp != self._timestamp:
            if not self._ended:
                self.incompletes.append(time.monotonic())
            self._timestamp, self._start, self._packets, self._ended, self._keyframe = timestamp, None, 0, False, False
            self.kept = []
        self._packets += 1
        descriptor = vp8_descriptor_size(data, offset)
        if data[offset] & 0x17 == 0x10:  # S bit, partition 0: the frame's first packet
            self._start = sequence
            self._keyframe = data[offset + descriptor] & 0x01 == 0  # VP8 payload header's P bit: 0 is a keyframe
            if self._keyframe:
                self.keyframe_starts.append(time.monotonic())
        if self.keep:
            self.kept.append((sequence, data[offset + descriptor : end]))
        if not marker_type & 0x80 or self._ended:
            return
        self._ended = True
        if self._start is not None and (sequence - self._start) % SEQUENCE_SPAN + 1 == self._packets:
            self.on_frame(timestamp, self._keyframe)
        else:
            self.incompletes.append(time.monotonic())

    def frame_payload(self) -> bytes:
        """The frame just completed, its VP8 payload reassembled in sequence order (with `keep`)."""
        start = self._start or 0
        return b"".join(payload for _, payload in sorted(self.kept, key=lambda k: (k[0] - start) % SEQUENCE_SPAN))


def vp8_descriptor_size(data: bytes, offset: int) -> int:
    """Length of the VP8 payload descriptor at `offset` (RFC 7741 section 4.2)."""
    if not data[offset] & 0x80:  # no extension byte
        return 1
    extension = data[offset + 1]
    size = 2
    if extension & 0x80:  # picture ID, 7 or 15 bits
        size += 2 if data[offset + size] & 0x80 else 1
    if extension & 0x40:  # TL0PICIDX
        size += 1
    if extension & 0x30:  # TID / KEYIDX
        size += 1
    return size
