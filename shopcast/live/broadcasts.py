"""Every WebRTC session of this process: the host's (WHIP) and the viewers' (WHEP), per episode.

Owns what it opens: each peer connection is closed when its session ends, when the show ends
and on shutdown. The fan-outs outlive a publisher's connection, so viewers keep their session
while the host reconnects and see the picture again when the host is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from shopcast.core.bus import Bus, SubscriberTooSlow
from shopcast.core.errors import Conflict, NotFound
from shopcast.live import codecs
from shopcast.live.events import EPISODE_CANCELLED, EPISODE_ENDED, episode_room
from shopcast.live.hls import HlsPackager, finish_abandoned_playlist
from shopcast.live.network import WebRtcNetwork
from shopcast.live.offers import Offer, read_offer
from shopcast.live.relay import Fanout, route_keyframe_requests, tap_receiver

log = logging.getLogger(__name__)

# A viewer at most this far behind live (0.5 s of video at 30 fps, 1 s of 20 ms audio frames):
# beyond it they skip to the next keyframe rather than drift seconds behind.
MAX_QUEUE = {"video": 15, "audio": 50}


@dataclass(frozen=True)
class Session:
    id: str
    answer: str


@dataclass
class Broadcast:
    """One episode on air."""

    episode_id: uuid.UUID
    fanouts: dict[str, Fanout]
    publisher: RTCPeerConnection | None = None
    publisher_session: str | None = None
    publisher_identity: uuid.UUID | None = None
    codecs: dict[str, RTCRtpCodecCapability] = field(default_factory=dict)
    viewers: dict[str, RTCPeerConnection] = field(default_factory=dict)
    grace_timer: asyncio.TimerHandle | None = None
    follower: asyncio.Task[None] | None = None
    packager: HlsPackager | None = None

    @property
    def publisher_connected(self) -> bool:
        return self.publisher is not None and self.publisher.connectionState not in ("failed", "closed")


@dataclass(frozen=True)
class BroadcastStats:
    """What a broadcast is doing, for health pages, benchmarks and tests."""

    viewers: int
    publisher_connected: bool
    frames_in: dict[str, int]
    packets_created: dict[str, int]
    deliveries: dict[str, int]
    keyframes_asked_of_publisher: int
    keyframe_requests: int
    encoders: int  # frames encoded for viewers: none, the host's packets are forwarded


class Broadcasts:
    def __init__(
        self,
        network: WebRtcNetwork,
        *,
        bus: Bus,
        grace_seconds: float,
        on_publisher_gone: Callable[[uuid.UUID], Awaitable[None]],
        min_keyframe_interval: float = 1.0,
        hls_root: Path | None = None,
        hls_segment_seconds: float = 2.0,
    ) -> None:
        self._hls_root = hls_root
        self._hls_segment_seconds = hls_segment_seconds
        self._network = network
        self._bus = bus
        self._grace = grace_seconds
        self._on_publisher_gone = on_publisher_gone
        self._min_keyframe_interval = min_keyframe_interval
        self._broadcasts: dict[uuid.UUID, Broadcast] = {}
        self._ending: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _new_connection(self) -> RTCPeerConnection:
        return RTCPeerConnection(self._network.configuration())

    async def _answer(self, pc: RTCPeerConnection, offer: Offer) -> str:
        await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    # --- the host --------------------------------------------------------------------------

    async def publish(self, episode_id: uuid.UUID, sdp: str, *, identity: uuid.UUID | None = None) -> Session:
        """Take the host's stream (WHIP); someone else is refused while the host is connected.

        The same person (`identity`) publishing again takes over at once: after a network change
        their old connection may still look alive for a while, and they must not be locked out.
        """
        offer = read_offer(sdp, sends=True, network=self._network)
        has_audio = codecs.check_publishable(offer)
        broadcast = self._broadcasts.get(episode_id)
        if (
            broadcast is not None
            and broadcast.publisher_connected
            and broadcast.grace_timer is None
            and (identity is None or identity != broadcast.publisher_identity)
        ):
            raise Conflict("someone is already publishing this episode")
        if broadcast is None:
            broadcast = Broadcast(
                episode_id,
                {
                    kind: Fanout(kind, min_keyframe_interval=self._min_keyframe_interval, max_queue=MAX_QUEUE[kind])
                    for kind in ("video", "audio")
                },
            )
            self._broadcasts[episode_id] = broadcast
            broadcast.follower = asyncio.create_task(self._follow(episode_id), name=f"broadcast-{episode_id}")
        elif broadcast.publisher is not None:
            await broadcast.publisher.close()
        self._cancel_grace(broadcast)

        pc = self._new_connection()
        session = secrets.token_urlsafe(16)
        broadcast.publisher, broadcast.publisher_session, broadcast.publisher_identity = pc, session, identity
        try:
            packager = self._packager(broadcast, has_audio=has_audio)
            # Transceivers made before the offer is applied: aiortc negotiates codecs while applying
            # it, matching the offer's sections to these, so their preferences are what is agreed.
            for kind in offer.kinds:
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                transceiver.setCodecPreferences(codecs.received(kind))
                ask = tap_receiver(transceiver.receiver, broadcast.fanouts[kind], decode=packager is not None)
                broadcast.fanouts[kind].connect_publisher(ask)
            answer = await self._answer(pc, offer)
            # The receivers' tracks exist once the offer is applied.
            tracks = {t.kind: t.receiver.track for t in pc.getTransceivers()}
            if packager is not None and "video" in tracks:
                packager.attach(tracks["video"], tracks.get("audio"))
        except Exception as exc:  # aiortc refusing an offer that read well
            await self._drop_publisher(broadcast)
            raise codecs.refusal(exc, no_common_codec=codecs.NOT_PUBLISHABLE) from exc
        broadcast.codecs = codecs.negotiated(answer)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if broadcast.publisher is not pc:
                return
            if pc.connectionState == "connected":
                self._cancel_grace(broadcast)
            elif pc.connectionState in ("disconnected", "failed", "closed"):
                self._start_grace(broadcast)

        return Session(session, answer)

    def _packager(self, broadcast: Broadcast, *, has_audio: bool) -> HlsPackager | None:
        """The episode's HLS output, made when its host first publishes (and kept across reconnects)."""
        if self._hls_root is None:
            return None
        if broadcast.packager is None:
            broadcast.packager = HlsPackager(
                self._hls_root / str(broadcast.episode_id),
                segment_seconds=self._hls_segment_seconds,
                has_audio=has_audio,
            )
        return broadcast.packager

    def _start_grace(self, broadcast: Broadcast) -> None:
        if broadcast.grace_timer is not None:
            return
        loop = asyncio.get_running_loop()
        broadcast.grace_timer = loop.call_later(self._grace, self._publisher_gone, broadcast)

    def _cancel_grace(self, broadcast: Broadcast) -> None:
        if broadcast.grace_timer is not None:
            broadcast.grace_timer.cancel()
            broadcast.grace_timer = None

    def _publisher_gone(self, broadcast: Broadcast) -> None:
        broadcast.grace_timer = None
        log.info("publisher of episode %s did not come back: ending the show", broadcast.episode_id)
        task = asyncio.create_task(self._on_publisher_gone(broadcast.episode_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drop_publisher(self, broadcast: Broadcast) -> None:
        if broadcast.publisher is not None:
            pc, broadcast.publisher, broadcast.publisher_session = broadcast.publisher, None, None
            await pc.close()

    def is_publisher(self, episode_id: uuid.UUID, session: str) -> bool:
        broadcast = self._broadcasts.get(episode_id)
        return (
            broadcast is not None
            and broadcast.publisher_session is not None
            and secrets.compare_digest(broadcast.publisher_session, session)
        )

    # --- the viewers -----------------------------------------------------------------------

    async def watch(self, episode_id: uuid.UUID, sdp: str) -> Session:
        """A receive-only session (WHEP) on the host's forwarded packets."""
        offer = read_offer(sdp, sends=False, network=self._network)
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None or not broadcast.codecs:
            raise Conflict("the episode is not on air yet")
        codecs.check_watchable(offer, broadcast.codecs)

        pc = self._new_connection()
        session = secrets.token_urlsafe(16)
        broadcast.viewers[session] = pc
        try:
            # As for the host: the viewer's transceivers exist, with the host's codec only, before
            # the offer is applied, so that codec is the one agreed and the packets fit it.
            for kind in offer.kinds:
                codec = broadcast.codecs.get(kind)
                if codec is None:
                    continue
                fanout = broadcast.fanouts[kind]
                transceiver = pc.addTransceiver(fanout.subscribe(), direction="sendonly")
                transceiver.setCodecPreferences(codecs.forwarded(kind, codec))
                route_keyframe_requests(transceiver.sender, fanout)
            answer = await self._answer(pc, offer)
        except Exception as exc:  # aiortc refusing an offer that read well
            await self._close_viewer(broadcast, session)
            main = broadcast.codecs.get("video") or next(iter(broadcast.codecs.values()))
            raise codecs.refusal(exc, no_common_codec=codecs.not_watchable(main.mimeType)) from exc

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close_viewer(broadcast, session)

        return Session(session, answer)

    async def _close_viewer(self, broadcast: Broadcast, session: str) -> None:
        pc = broadcast.viewers.pop(session, None)
        if pc is None:
            return
        for transceiver in pc.getTransceivers():
            track = transceiver.sender.track
            if track is not None:
                track.stop()
        await pc.close()

    async def leave(self, episode_id: uuid.UUID, session: str) -> None:
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None or session not in broadcast.viewers:
            raise NotFound("no such viewing session")
        await self._close_viewer(broadcast, session)

    # --- the end ---------------------------------------------------------------------------

    async def _follow(self, episode_id: uuid.UUID) -> None:
        """End the broadcast when the episode ends or is cancelled, whichever app process did it."""
        while True:
            try:
                async with self._bus.subscribe(episode_room(episode_id)) as events:
                    async for event in events:
                        if event.event in (EPISODE_ENDED, EPISODE_CANCELLED):
                            await self.end(episode_id)
                            return
            except SubscriberTooSlow:
                continue

    async def end(self, episode_id: uuid.UUID) -> None:
        """The show is over: close every connection and finish the replay; returns once all is done.

        Several callers may end the same show at once (the host's DELETE and the bus event it
        causes): all of them wait for the one ending.
        """
        ending = self._ending.get(episode_id)
        if ending is None:
            broadcast = self._broadcasts.pop(episode_id, None)
            if broadcast is None:
                # Not broadcast by this process: if its recording was abandoned (a crash), finish it.
                folder = self.hls_folder(episode_id)
                if folder is not None:
                    await asyncio.to_thread(finish_abandoned_playlist, folder, quiet_for=3 * self._hls_segment_seconds)
                return
            ending = asyncio.create_task(self._finish(broadcast), name=f"end-{episode_id}")
            self._ending[episode_id] = ending
            ending.add_done_callback(lambda _: self._ending.pop(episode_id, None))
        # Shielded: the bus follower that asked for the end is itself cancelled by it.
        await asyncio.shield(ending)

    async def _finish(self, broadcast: Broadcast) -> None:
        self._cancel_grace(broadcast)
        if broadcast.follower is not None:
            broadcast.follower.cancel()
        for session in list(broadcast.viewers):
            await self._close_viewer(broadcast, session)
        for fanout in broadcast.fanouts.values():
            fanout.close()
        await self._drop_publisher(broadcast)
        if broadcast.packager is not None:
            await broadcast.packager.close()  # the playlist is now complete: the replay

    async def close(self) -> None:
        for episode_id in list(self._broadcasts):
            await self.end(episode_id)
        for ending in list(self._ending.values()):
            await asyncio.shield(ending)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def hls_folder(self, episode_id: uuid.UUID) -> Path | None:
        """Where the episode's HLS playlist and segments are (live, then the replay), if HLS is on."""
        return None if self._hls_root is None else self._hls_root / str(episode_id)

    def on_air(self, episode_id: uuid.UUID) -> bool:
        return episode_id in self._broadcasts

    def stats(self, episode_id: uuid.UUID) -> BroadcastStats | None:
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None:
            return None
        fanouts = broadcast.fanouts
        return BroadcastStats(
            viewers=len(broadcast.viewers),
            publisher_connected=broadcast.publisher_connected,
            frames_in={k: f.stats.frames_in for k, f in fanouts.items()},
            packets_created={k: f.stats.packets_created for k, f in fanouts.items()},
            deliveries={k: f.stats.deliveries for k, f in fanouts.items()},
            keyframes_asked_of_publisher=fanouts["video"].stats.keyframes_asked_of_publisher,
            keyframe_requests=fanouts["video"].stats.keyframe_requests,
            encoders=0,
        )

    def open_connections(self) -> int:
        """Peer connections this process holds (for leak checks)."""
        return sum(len(b.viewers) + (b.publisher is not None) for b in self._broadcasts.values())
