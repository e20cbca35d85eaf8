"""Every WebRTC session of this process: the host's (WHIP) and the viewers' (WHEP), per episode.

Owns what it opens: each peer connection is closed when its session ends, when the show ends
and on shutdown. An offer is checked in full (live/offers.py) and its connection built before
anything is registered, so a refused offer leaves nothing behind. A session that does not connect
within `connect_seconds`, or whose connection fails, closes itself.

The episode goes live when the host's connection is up (ICE and DTLS done), not when the offer is
answered: until then viewers and the studio are told it has not started, and a host whose
connection never comes up leaves a scheduled episode scheduled. The fan-outs and the HLS output
outlive a publisher's connection, so viewers keep their session while the host reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from shopcast.core.bus import Bus, SubscriberTooSlow
from shopcast.core.clock import Clock
from shopcast.core.errors import Conflict, NotFound, ShopcastError
from shopcast.live import codecs
from shopcast.live.events import EPISODE_CANCELLED, EPISODE_ENDED, episode_room
from shopcast.live.hls import HlsPackager, finish_abandoned_playlist
from shopcast.live.network import WebRtcNetwork
from shopcast.live.offers import Offer, read_offer
from shopcast.live.relay import Fanout, route_keyframe_requests, tap_receiver
from shopcast.live.sessions import ConnectionWatch, Publisher, Session, close_connection

log = logging.getLogger(__name__)

# A viewer at most this far behind live (0.5 s of video at 30 fps, 1 s of 20 ms audio frames):
# beyond it they skip to the next keyframe rather than drift seconds behind.
MAX_QUEUE = {"video": 15, "audio": 50}


@dataclass
class Broadcast:
    """One episode this process carries: its host's session and its viewers'."""

    episode_id: uuid.UUID
    fanouts: dict[str, Fanout]
    publisher: Publisher | None = None
    live: bool = False  # the host's connection came up and the episode went live
    codecs: dict[str, RTCRtpCodecCapability] = field(default_factory=dict)
    viewers: dict[str, RTCPeerConnection] = field(default_factory=dict)
    grace_timer: asyncio.TimerHandle | None = None
    follower: asyncio.Task[None] | None = None
    packager: HlsPackager | None = None


@dataclass(frozen=True)
class BroadcastStats:
    """What a broadcast is doing, for health pages, benchmarks and tests."""

    on_air: bool
    viewers: int  # connected ones: a session still connecting (or never) watches nothing
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
        connect_seconds: float = 20.0,
        min_keyframe_interval: float = 1.0,
        hls_root: Path | None = None,
        hls_segment_seconds: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock
        self._hls_root = hls_root
        self._hls_segment_seconds = hls_segment_seconds
        self._network = network
        self._bus = bus
        self._grace = grace_seconds
        self._connect_seconds = connect_seconds
        self._on_publisher_gone = on_publisher_gone
        self._min_keyframe_interval = min_keyframe_interval
        self._broadcasts: dict[uuid.UUID, Broadcast] = {}
        self._ending: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # One publish at a time per episode: two offers building at once could both register.
        self._publishing: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def _answer(self, pc: RTCPeerConnection, offer: Offer) -> str:
        await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    # --- the host --------------------------------------------------------------------------

    async def publish(
        self,
        episode_id: uuid.UUID,
        sdp: str,
        *,
        identity: uuid.UUID | None = None,
        on_connected: Callable[[], Awaitable[None]] | None = None,
    ) -> Session:
        """Take the host's stream (WHIP); someone else is refused while the host is connected.

        The same person (`identity`) publishing again takes over at once: after a network change
        their old connection may still look alive for a while, and they must not be locked out.
        `on_connected` runs when this connection first comes up (the episode goes live); if it
        raises, the broadcast ends.
        """
        offer = read_offer(sdp, sends=True, network=self._network)
        has_audio = codecs.check_publishable(offer)
        lock = self._publishing.setdefault(episode_id, asyncio.Lock())
        async with lock:
            broadcast = self._broadcasts.get(episode_id)
            current = broadcast.publisher if broadcast is not None else None
            if current is not None and current.holds_the_episode and (identity is None or identity != current.identity):
                raise Conflict("errors.media.someone_else")
            fresh = broadcast is None
            if broadcast is None:
                broadcast = Broadcast(episode_id, {kind: self._fanout(kind) for kind in ("video", "audio")})
            publisher, answer = await self._connect_publisher(broadcast, offer, identity, has_audio=has_audio)
            # Nothing below can fail: from here the session is the episode's.
            if fresh:
                self._broadcasts[episode_id] = broadcast
                broadcast.follower = asyncio.create_task(self._follow(episode_id), name=f"broadcast-{episode_id}")
            broadcast.publisher = publisher
            for kind, ask in publisher.ask_keyframe.items():
                broadcast.fanouts[kind].connect_publisher(ask)
            broadcast.codecs = codecs.negotiated(answer)
            self._cancel_grace(broadcast)
            if current is not None:
                await close_connection(current.pc)
        self._spawn(self._run_publisher(broadcast, publisher, on_connected), f"publisher-{episode_id}")
        return Session(publisher.session, answer)

    def _fanout(self, kind: str) -> Fanout:
        return Fanout(kind, min_keyframe_interval=self._min_keyframe_interval, max_queue=MAX_QUEUE[kind])

    async def _connect_publisher(
        self, broadcast: Broadcast, offer: Offer, identity: uuid.UUID | None, *, has_audio: bool
    ) -> tuple[Publisher, str]:
        """The host's connection, answered; closed again if aiortc refuses the offer."""
        pc = RTCPeerConnection(self._network.configuration())
        hls = self._hls_root is not None
        packager = broadcast.packager
        decode = {"video": hls, "audio": hls and (packager.has_audio if packager is not None else has_audio)}
        asks = {}
        try:
            # Transceivers made before the offer is applied: aiortc negotiates codecs while applying
            # it, matching the offer's sections to these, so their preferences are what is agreed.
            for kind in offer.kinds:
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                transceiver.setCodecPreferences(codecs.received(kind))
                asks[kind] = tap_receiver(transceiver.receiver, broadcast.fanouts[kind], decode=decode[kind])
            answer = await self._answer(pc, offer)
        except BaseException as exc:
            await close_connection(pc)
            if not isinstance(exc, Exception):
                raise
            raise codecs.refusal(exc, no_common_codec=codecs.not_publishable()) from exc
        # The receivers' tracks exist once the offer is applied.
        tracks = {t.kind: t.receiver.track for t in pc.getTransceivers()}
        session = secrets.token_urlsafe(16)
        return Publisher(pc, session, identity, has_audio, tracks, asks), answer

    async def _run_publisher(
        self, broadcast: Broadcast, publisher: Publisher, on_connected: Callable[[], Awaitable[None]] | None
    ) -> None:
        watch = ConnectionWatch(publisher.pc)
        try:
            if await watch.connected(within=self._connect_seconds):
                if broadcast.publisher is publisher:
                    await self._publisher_connected(broadcast, publisher, on_connected)
                await watch.ended()
            elif publisher.holds_the_episode:
                log.info("host's connection for episode %s did not come up in time: closing it", broadcast.episode_id)
            else:
                log.info("host's connection for episode %s failed before coming up", broadcast.episode_id)
        finally:
            await self._publisher_lost(broadcast, publisher)

    async def _publisher_connected(
        self, broadcast: Broadcast, publisher: Publisher, on_connected: Callable[[], Awaitable[None]] | None
    ) -> None:
        self._cancel_grace(broadcast)
        if not broadcast.live:
            try:
                if on_connected is not None:
                    await on_connected()
            except Exception as exc:
                reason = exc.detail if isinstance(exc, ShopcastError) else repr(exc)
                log.warning("episode %s could not go live: %s", broadcast.episode_id, reason)
                await self._tear_down(broadcast)
                return
            if self._broadcasts.get(broadcast.episode_id) is not broadcast:
                # Hung up or ended while going live: the episode must not stay live without its host.
                await self._on_publisher_gone(broadcast.episode_id)
                return
            broadcast.live = True
        packager = self._packager(broadcast, has_audio=publisher.has_audio)
        if packager is not None and "video" in publisher.tracks and broadcast.publisher is publisher:
            packager.attach(publisher.tracks["video"], publisher.tracks.get("audio"))

    async def _publisher_lost(self, broadcast: Broadcast, publisher: Publisher) -> None:
        """The host's connection failed, closed or never came up."""
        await close_connection(publisher.pc)
        if broadcast.publisher is not publisher or self._broadcasts.get(broadcast.episode_id) is not broadcast:
            return  # taken over by a newer session, or the show ended
        if broadcast.live:
            self._start_grace(broadcast)
        else:
            await self._tear_down(broadcast)  # the episode never went live: nothing to wait for

    async def _tear_down(self, broadcast: Broadcast) -> None:
        if self._broadcasts.get(broadcast.episode_id) is broadcast:
            await self.end(broadcast.episode_id)

    def _packager(self, broadcast: Broadcast, *, has_audio: bool) -> HlsPackager | None:
        """The episode's HLS output, made when its host first connects (and kept across reconnects)."""
        if self._hls_root is None:
            return None
        if broadcast.packager is None:
            broadcast.packager = HlsPackager(
                self._hls_root / str(broadcast.episode_id),
                segment_seconds=self._hls_segment_seconds,
                has_audio=has_audio,
                clock=self._clock,
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
        self._spawn(self._on_publisher_gone(broadcast.episode_id), f"publisher-gone-{broadcast.episode_id}")

    def is_publisher(self, episode_id: uuid.UUID, session: str) -> bool:
        broadcast = self._broadcasts.get(episode_id)
        return (
            broadcast is not None
            and broadcast.publisher is not None
            and secrets.compare_digest(broadcast.publisher.session, session)
        )

    # --- the viewers -----------------------------------------------------------------------

    async def watch(self, episode_id: uuid.UUID, sdp: str) -> Session:
        """A receive-only session (WHEP) on the host's forwarded packets."""
        offer = read_offer(sdp, sends=False, network=self._network)
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None or not broadcast.codecs:
            raise Conflict("errors.media.not_on_air")
        codecs.check_watchable(offer, broadcast.codecs)

        pc = RTCPeerConnection(self._network.configuration())
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
        except BaseException as exc:
            await close_connection(pc)
            if not isinstance(exc, Exception):
                raise
            main = broadcast.codecs.get("video") or next(iter(broadcast.codecs.values()))
            raise codecs.refusal(exc, no_common_codec=codecs.not_watchable(main.mimeType)) from exc
        if self._broadcasts.get(episode_id) is not broadcast:
            await close_connection(pc)
            raise Conflict("errors.media.off_air")
        session = secrets.token_urlsafe(16)
        broadcast.viewers[session] = pc
        self._spawn(self._run_viewer(broadcast, session, pc), f"viewer-{episode_id}")
        return Session(session, answer)

    async def _run_viewer(self, broadcast: Broadcast, session: str, pc: RTCPeerConnection) -> None:
        watch = ConnectionWatch(pc)
        try:
            if await watch.connected(within=self._connect_seconds):
                await watch.ended()
        finally:
            await self._close_viewer(broadcast, session)

    async def _close_viewer(self, broadcast: Broadcast, session: str) -> None:
        pc = broadcast.viewers.pop(session, None)
        if pc is not None:
            await close_connection(pc)

    async def leave(self, episode_id: uuid.UUID, session: str) -> None:
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None or session not in broadcast.viewers:
            raise NotFound("errors.media.no_viewing")
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
        if broadcast.publisher is not None:
            await close_connection(broadcast.publisher.pc)
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

    def carries(self, episode_id: uuid.UUID) -> bool:
        """Whether this process holds the episode's broadcast (its host connecting, connected or awaited)."""
        return episode_id in self._broadcasts

    def stats(self, episode_id: uuid.UUID) -> BroadcastStats | None:
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None:
            return None
        fanouts = broadcast.fanouts
        return BroadcastStats(
            on_air=broadcast.live,
            viewers=sum(pc.connectionState == "connected" for pc in broadcast.viewers.values()),
            publisher_connected=broadcast.publisher is not None and broadcast.publisher.connected,
            frames_in={k: f.stats.frames_in for k, f in fanouts.items()},
            packets_created={k: f.stats.packets_created for k, f in fanouts.items()},
            deliveries={k: f.stats.deliveries for k, f in fanouts.items()},
            keyframes_asked_of_publisher=fanouts["video"].stats.keyframes_asked_of_publisher,
            keyframe_requests=fanouts["video"].stats.keyframe_requests,
            encoders=0,
        )

    def open_connections(self) -> int:
        """Peer connections this process holds open (for leak checks)."""
        return sum(
            len(b.viewers) + (b.publisher is not None and b.publisher.pc.connectionState != "closed")
            for b in self._broadcasts.values()
        )
