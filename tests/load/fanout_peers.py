"""The processes of the WHEP fan-out benchmark: a stamped camera, the two relays, the viewers.

Used by tests/load/whep_fanout.py, which starts them and prints the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from ipaddress import ip_network
from multiprocessing.connection import Connection
from typing import Any

import av
from aiohttp import web
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.codecs import vpx
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from redis.asyncio import Redis

from shopcast.core.bus import InProcessBus
from shopcast.core.clock import SystemClock
from shopcast.core.errors import ShopcastError
from shopcast.core.security import TokenSigner
from shopcast.live.broadcasts import Broadcasts
from shopcast.live.network import WebRtcNetwork
from shopcast.live.origins import RedisOrigins
from shopcast.web.origin_link import RELAY_HEADER, HttpOriginLink, check_relay_token, relay_path
from tests.load.harness import child_process, free_port, run_commands
from tests.load.rtp_frames import FrameCounter, tap_srtp

LOOPBACK = WebRtcNetwork(ice_servers=[], hosts=["127.0.0.1"], peer_networks=[ip_network("127.0.0.0/8")])

WIDTH, HEIGHT, FPS = 1280, 720, 30
TICKS_PER_FRAME = 90000 // FPS  # RTP video clock
PAN = 3  # pixels the picture moves per frame, so every frame costs the encoder real work
BLOCK = 16  # stamp blocks are VP8 macroblocks: one flat level each survives coarse quantisation
STAMP_BITS = 16  # frame number; the next 16 blocks repeat it inverted, so a misread is caught
BITRATE = 1_500_000  # aiortc's VP8 ceiling, held (see hold_bitrate)
LEASE_SECONDS = 6.0  # the origin's lease with two processes: SHOPCAST_ORIGIN_LEASE_SECONDS' default


def new_peer() -> RTCPeerConnection:
    LOOPBACK.install()
    return RTCPeerConnection(LOOPBACK.configuration())


def hold_bitrate() -> None:
    """Every VP8 encoder of this process sends BITRATE from the first frame on.

    aiortc's encoder starts at 500 kbit/s, follows the receiver's estimate up over ~15 s and restarts,
    with a keyframe, at every step of more than 10%: the measuring window would see a keyframe a second.
    A browser host adapts without restarting; held, the source is steady and the same in both relays.
    """
    vpx.DEFAULT_BITRATE = vpx.MIN_BITRATE = vpx.MAX_BITRATE = BITRATE


def vp8_only(transceiver: Any) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")])


# --- the picture ---------------------------------------------------------------------------------


def stamp_row(number: int) -> bytes:
    bits = [(number >> i) & 1 for i in range(STAMP_BITS)]
    return b"".join((b"\xeb" if bit else b"\x10") * BLOCK for bit in bits + [1 - b for b in bits])


def read_stamp(frame: av.VideoFrame) -> int | None:
    """The frame number stamped by the publisher, read from decoded pixels (None if it does not check)."""
    plane = memoryview(frame.planes[0])
    line = frame.planes[0].line_size
    bits = []
    for block in range(2 * STAMP_BITS):
        x = block * BLOCK + 4
        level = sum(sum(plane[row * line + x : row * line + x + 8]) for row in (4, 8, 11))
        bits.append(level > 128 * 24)
    if any(bits[i] == bits[i + STAMP_BITS] for i in range(STAMP_BITS)):
        return None
    return sum(1 << i for i in range(STAMP_BITS) if bits[i])


class StampedCamera(MediaStreamTrack):
    """A camera panning to and fro over a textured scene at 30 fps, its frame number in the top-left blocks.

    To and fro, not round: a jump back to the start would be a scene cut every ten seconds, an inter frame
    nearly as large as a keyframe, and the window would measure the cut rather than the steady stream.
    """

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        span = WIDTH + PAN * FPS * 10  # ten seconds of panning one way
        noise = av.VideoFrame(span // 8, HEIGHT // 8, "gray")
        dice = random.Random(720)  # the same scene every run
        noise.planes[0].update(bytes(dice.randrange(30, 226) for _ in range(noise.planes[0].buffer_size)))
        scene = noise.reformat(width=span, height=HEIGHT, format="gray", interpolation="BICUBIC")
        line = scene.planes[0].line_size
        data = bytes(scene.planes[0])
        self._rows = [data[r * line : r * line + span] for r in range(HEIGHT)]
        self._span = span - WIDTH
        chroma = av.VideoFrame(WIDTH, HEIGHT, "yuv420p").planes[1]
        self._chroma = bytes([120]) * chroma.buffer_size
        self._start: float | None = None
        self._number = -1
        self.sent: dict[int, float] = {}

    async def recv(self) -> av.VideoFrame:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        # Like a camera, a frame the encoder was too busy to take is skipped, not sent late.
        number = max(self._number + 1, int((now - self._start) * FPS))
        wait = self._start + number / FPS - now
        if wait > 0:
            await asyncio.sleep(wait)
        self._number = number
        self.sent[number] = time.monotonic()
        return self._picture(number)

    def _picture(self, number: int) -> av.VideoFrame:
        x = abs((number * PAN) % (2 * self._span) - self._span)
        stamp = stamp_row(number)
        rows = self._rows
        top = [stamp + rows[r][x + len(stamp) : x + WIDTH] for r in range(BLOCK)]
        luma = b"".join(top + [rows[r][x : x + WIDTH] for r in range(BLOCK, HEIGHT)])
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(luma)
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts = number * TICKS_PER_FRAME
        frame.time_base = Fraction(1, 90000)
        return frame


class Publisher:
    """The host: one peer connection sending the stamped camera."""

    def __init__(self) -> None:
        self.pc = new_peer()
        self.camera = StampedCamera()

    async def offer(self) -> str:
        vp8_only(self.pc.addTransceiver(self.camera, direction="sendonly"))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def sent(self) -> dict[int, float]:
        return dict(self.camera.sent)

    async def stop(self) -> None:
        await self.pc.close()


# --- the two relays ------------------------------------------------------------------------------


class SharedRelay:
    """Shopcast's relay: the host's encoded frames forwarded to every viewer, no encoder per viewer."""

    def __init__(self) -> None:
        async def publisher_gone(episode_id: uuid.UUID) -> None:
            return None

        self._broadcasts = Broadcasts(LOOPBACK, bus=InProcessBus(), grace_seconds=600, on_publisher_gone=publisher_gone)
        self._episode = uuid.uuid4()

    async def publish(self, offer: str) -> str:
        return (await self._broadcasts.publish(self._episode, offer)).answer

    async def watch(self, offer: str) -> str:
        return (await self._broadcasts.watch(self._episode, offer)).answer

    def frames_in(self) -> int:
        stats = self._broadcasts.stats(self._episode)
        return stats.frames_in["video"] if stats else 0

    async def close(self) -> None:
        await self._broadcasts.close()


class ReplicaRelay:
    """Shopcast's relay in one of two app processes sharing Redis, wired as the app wires it: the process the host
    publishes to is the show's origin (a lease in Redis); the other pulls the stream from it once, over HTTP
    (`POST /live/{episode_id}/relay`, the app's own token check) and WebRTC, for all its viewers."""

    def __init__(self, redis_url: str, prefix: str, secret: str, episode: str) -> None:
        self._redis = Redis.from_url(redis_url)
        self._port = free_port()
        self._origins = RedisOrigins(
            self._redis, prefix=prefix, url=f"http://127.0.0.1:{self._port}", lease_seconds=LEASE_SECONDS
        )
        clock = SystemClock()
        self._signer = TokenSigner(secret, clock=clock, user_ttl=timedelta(hours=1), guest_ttl=timedelta(hours=1))
        self._link = HttpOriginLink(self._signer)

        async def publisher_gone(episode_id: uuid.UUID) -> None:
            return None

        self._broadcasts = Broadcasts(
            LOOPBACK,
            bus=InProcessBus(),
            grace_seconds=600,
            on_publisher_gone=publisher_gone,
            origins=self._origins,
            link=self._link,
            poll_seconds=1.0,
        )
        self._episode = uuid.UUID(episode)
        self._runner: web.AppRunner | None = None
        self._renewals: asyncio.Task[None] | None = None

    async def _started(self) -> None:
        """The process's relay route on 127.0.0.1, and its leases renewed as the app's replica duties do."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_post("/live/{episode_id}/relay", self._relay)
        app.router.add_delete("/live/{episode_id}/relay/{session}", self._stop_relay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._renewals = asyncio.ensure_future(self._renew())

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self._broadcasts.renew_origins()

    async def _relay(self, request: web.Request) -> web.Response:
        episode_id = uuid.UUID(request.match_info["episode_id"])
        check_relay_token(self._signer, request.headers.get(RELAY_HEADER), episode_id)
        started = await self._broadcasts.relay(episode_id, await request.text())
        location = f"{relay_path(episode_id)}/{started.id}"
        return web.Response(
            status=201, text=started.answer, content_type="application/sdp", headers={"Location": location}
        )

    async def _stop_relay(self, request: web.Request) -> web.Response:
        episode_id = uuid.UUID(request.match_info["episode_id"])
        check_relay_token(self._signer, request.headers.get(RELAY_HEADER), episode_id)
        try:
            await self._broadcasts.leave(episode_id, request.match_info["session"], relay=True)
        except ShopcastError as exc:  # the app answers these as problems; here the status is enough
            return web.Response(status=exc.status)
        return web.Response(status=200)

    async def publish(self, offer: str) -> str:
        await self._started()
        return (await self._broadcasts.publish(self._episode, offer)).answer

    async def watch(self, offer: str) -> str:
        await self._started()
        return (await self._broadcasts.watch(self._episode, offer)).answer

    def frames_in(self) -> int:
        stats = self._broadcasts.stats(self._episode)
        return stats.frames_in["video"] if stats else 0

    def between_processes(self) -> dict[str, int]:
        """Streams this process sends to others (relays) and pulls it opened (pulls)."""
        stats = self._broadcasts.stats(self._episode)
        return {"relays": stats.relays if stats else 0, "pulls": stats.pulls if stats else 0}

    async def close(self) -> None:
        if self._renewals is not None:
            self._renewals.cancel()
        await self._broadcasts.close()
        await self._link.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self._redis.aclose()


class NaiveRelay:
    """The usual aiortc fan-out: the host's track decoded once, and MediaRelay feeds one encoder per viewer."""

    def __init__(self) -> None:
        self._relay = MediaRelay()
        self._source: MediaStreamTrack | None = None
        self._pcs: list[RTCPeerConnection] = []
        self._reader: asyncio.Future[None] | None = None
        self._frames_in = 0

    def _peer(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(LOOPBACK.configuration())
        self._pcs.append(pc)
        return pc

    async def publish(self, offer: str) -> str:
        pc = self._peer()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._source = track
            # Keeps the relay reading while nobody watches, so viewers start on a fresh frame.
            self._reader = asyncio.ensure_future(self._count(self._relay.subscribe(track, buffered=False)))

        await pc.setRemoteDescription(RTCSessionDescription(LOOPBACK.filter_remote_candidates(offer), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    async def _count(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self._frames_in += 1

    async def watch(self, offer: str) -> str:
        if self._source is None:
            raise RuntimeError("the host is not publishing")
        pc = self._peer()
        await pc.setRemoteDescription(RTCSessionDescription(LOOPBACK.filter_remote_candidates(offer), "offer"))
        # Unbuffered: a viewer whose encoder falls behind skips frames instead of falling further behind.
        pc.addTrack(self._relay.subscribe(self._source, buffered=False))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def frames_in(self) -> int:
        return self._frames_in

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        for pc in self._pcs:
            await pc.close()


class Server:
    def __init__(self, relay: str) -> None:
        LOOPBACK.install()
        self.relay: SharedRelay | NaiveRelay | ReplicaRelay
        if relay.startswith("replica "):
            self.relay = ReplicaRelay(*relay.split()[1:])
        else:
            self.relay = SharedRelay() if relay == "shared" else NaiveRelay()

    async def publish(self, offer: str) -> str:
        return await self.relay.publish(offer)

    async def watch(self, offers: list[str]) -> list[str]:
        return list(await asyncio.gather(*(self.relay.watch(offer) for offer in offers)))

    async def frames_in(self) -> int:
        return self.relay.frames_in()

    async def between_processes(self) -> dict[str, int]:
        return self.relay.between_processes() if isinstance(self.relay, ReplicaRelay) else {}

    async def stop(self) -> None:
        await self.relay.close()


# --- the viewers ---------------------------------------------------------------------------------


class Watcher:
    """One viewer, a real peer connection (ICE, DTLS, SRTP) on 127.0.0.1.

    A decoding viewer (the sample) is a plain aiortc receiver: jitter buffer, feedback (NACK, PLI, REMB) and a
    decoder, with the stamp read from every frame. A counting viewer keeps aiortc's ICE and DTLS, and its media
    packets go through `rtp_frames.tap_srtp` (SRTP decrypted, RTP header and VP8 descriptor read) to a
    `FrameCounter`: a frame counts when all its packets arrived; the first keyframe is decoded for its stamp,
    and later frames are numbered by their RTP timestamp. Full receivers for every viewer would need more than
    this machine has beside the server, and the load generator would become what is measured.
    """

    def __init__(self, decodes_all: bool) -> None:
        self.started = time.monotonic()
        self.pc = new_peer()
        self.decodes_all = decodes_all
        self.first_frame: float | None = None
        self.anchor: tuple[int, int] | None = None  # (stamp, rtp timestamp) of one decoded frame
        self.arrivals: list[tuple[float, int]] = []  # (time, rtp timestamp) of each complete frame
        self.decoded: list[tuple[float, int]] = []  # (time, stamp read from the pixels)
        self.unreadable: list[float] = []  # when a stamp could not be read
        self.mismatches: list[float] = []  # when a decoded stamp was not the number the RTP timestamp gave
        self._receiver: Any = None
        self._counter: FrameCounter | None = None  # a counting viewer's
        self._first_timestamp: int | None = None
        self._task: asyncio.Future[None] | None = None
        self._asking: asyncio.Future[None] | None = None  # a PLI on its way

    async def offer(self) -> str:
        transceiver = self.pc.addTransceiver("video", direction="recvonly")
        vp8_only(transceiver)
        if self.decodes_all:

            @self.pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                self._task = asyncio.ensure_future(self._decode_all(track))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        if not self.decodes_all:
            self._receiver = transceiver.receiver
            self._counter = FrameCounter(self._complete)
            self._counter.keep = True  # until the first keyframe's stamp is read
            tap_srtp(transceiver, self._counter.packet)
        return self.pc.localDescription.sdp

    def number(self, timestamp: int) -> int | None:
        if self.anchor is None:
            return None
        return self.anchor[0] + round((timestamp - self.anchor[1]) / TICKS_PER_FRAME)

    def _complete(self, timestamp: int, keyframe: bool) -> None:
        """A counting viewer's frame arrived whole."""
        now = time.monotonic()
        if self._first_timestamp is None:
            self._first_timestamp = timestamp
        timestamp = (timestamp - self._first_timestamp) % 2**32
        self.arrivals.append((now, timestamp))
        if self.first_frame is None:
            self.first_frame = now
        if self.anchor is None:
            self._read_anchor(timestamp, keyframe)

    def _read_anchor(self, timestamp: int, keyframe: bool) -> None:
        assert self._counter is not None
        stamp = None
        if keyframe:  # decodable on its own
            with contextlib.suppress(av.FFmpegError):
                frames = av.CodecContext.create("libvpx", "r").decode(av.Packet(self._counter.frame_payload()))
                stamp = next((s for s in map(read_stamp, frames) if s is not None), None)
            if stamp is None:
                self.unreadable.append(time.monotonic())
        if stamp is None:
            # No stamp yet: ask for a keyframe, as a browser would after a loss (the relay rate-limits it).
            if self._counter.ssrc is not None and (self._asking is None or self._asking.done()):
                self._asking = asyncio.ensure_future(self._receiver._send_rtcp_pli(self._counter.ssrc))
            return
        self.anchor = (stamp, timestamp)
        self.decoded.append((time.monotonic(), stamp))
        self._counter.keep = False

    async def _decode_all(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            self.arrivals.append((now, frame.pts))
            if self.first_frame is None:
                self.first_frame = now
            stamp = read_stamp(frame)
            if stamp is None:
                self.unreadable.append(now)
                continue
            if self.anchor is None:
                self.anchor = (stamp, frame.pts)
            elif stamp != self.number(frame.pts):
                self.mismatches.append(now)
            self.decoded.append((now, stamp))

    def report(self, start: float, end: float) -> dict[str, Any]:
        inside = [(t, ts) for t, ts in self.arrivals if start <= t <= end]
        return {
            "decodes_all": self.decodes_all,
            "frames": len(inside),
            "arrived": [(t, self.number(ts)) for t, ts in inside if self.anchor is not None],
            "decoded": [(t, n) for t, n in self.decoded if start <= t <= end],
            # Each as (in the window, since joining).
            "unreadable": within(self.unreadable, start, end),
            "mismatches": within(self.mismatches, start, end),
            "lost": within(self._counter.losses if self._counter else [], start, end),
            "incomplete": within(self._counter.incompletes if self._counter else [], start, end),
            "keyframes": sum(start <= t <= end for t in self._counter.keyframe_starts) if self._counter else 0,
        }

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.pc.close()


def within(events: list[float] | list[tuple[float, int]], start: float, end: float) -> tuple[int, int]:
    """How many events (times, or (time, count) pairs) fell between `start` and `end`, and how many in all."""
    counted = [event if isinstance(event, tuple) else (event, 1) for event in events]
    return sum(n for t, n in counted if start <= t <= end), sum(n for _, n in counted)


class Viewers:
    """Many viewers in one process."""

    def __init__(self) -> None:
        self.watchers: list[Watcher] = []

    async def offer(self, decoding: list[bool]) -> list[tuple[int, str]]:
        """One new viewer per flag: a decoding one (the sample) or a counting one."""
        new = [Watcher(decodes_all=decodes) for decodes in decoding]
        self.watchers.extend(new)
        offers = await asyncio.gather(*(w.offer() for w in new))
        return [(self.watchers.index(w), sdp) for w, sdp in zip(new, offers, strict=True)]

    async def accept(self, answers: list[tuple[int, str]]) -> None:
        for index, answer in answers:
            await self.watchers[index].pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def first_frames(self) -> list[float | None]:
        return [w.first_frame - w.started if w.first_frame is not None else None for w in self.watchers]

    async def report(self, start: float, end: float) -> list[dict[str, Any]]:
        return [w.report(start, end) for w in self.watchers]

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(w.close() for w in self.watchers), return_exceptions=True)


# --- child processes -----------------------------------------------------------------------------


def child_main(conn: Connection, role: str, argument: str, parent: int, lifetime: float) -> None:
    """A spawned process: serves its role's commands from the parent until told to stop."""
    child_process(parent, lifetime)
    hold_bitrate()
    # In production the host's encoder and the viewers are other computers. Here all share two cores, so the
    # load viewers yield to the server and to the host's encoder, which (if we may raise them) go first: a
    # relay starved by its own load generator, or a source skipping frames, would say nothing about the relay.
    if role == "viewers":
        os.nice(10)
    else:
        with contextlib.suppress(PermissionError):
            os.nice(-5)
    try:
        asyncio.run(_serve(conn, role, argument))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # aiortc's decoder threads are not daemons: leave without waiting for them.
        os._exit(0)


async def _serve(conn: Connection, role: str, argument: str) -> None:
    roles: dict[str, Callable[[], Any]] = {
        "server": lambda: Server(argument),
        "publisher": Publisher,
        "viewers": Viewers,
    }
    await run_commands(conn, roles[role]())  # made in the running loop: aiortc's objects want one
