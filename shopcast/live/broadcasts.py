"""Every WebRTC session of this process: the host's (WHIP) and the viewers' (WHEP), per episode.

Owns what it opens: each peer connection is closed when its session ends, when the show ends
and on shutdown. An offer is checked in full (live/offers.py) and its connection built before
anything is registered, so a refused offer leaves nothing behind. A session that does not connect
within `connect_seconds`, or whose connection fails, closes itself.

The episode goes live when the host's connection is up (ICE and DTLS done), not when the offer is
answered: until then viewers and the studio are told it has not started, and a host whose
connection never comes up leaves a scheduled episode scheduled. The fan-outs and the HLS output
outlive a publisher's connection, so viewers keep their session while the host reconnects.

With several processes (live/origins.py), the one the host publishes to is the show's origin; a
viewer on another process is fed by that process's one pull of the stream (live/upstream.py), kept
while it has viewers (and `linger_seconds` after the last one leaves).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection

from shopcast.core import tasks
from shopcast.core.bus import Bus, SubscriberTooSlow
from shopcast.core.clock import Clock
from shopcast.core.errors import Conflict, NotFound, ShopcastError
from shopcast.live import codecs
from shopcast.live.broadcast import MAX_QUEUE, Broadcast, BroadcastStats
from shopcast.live.events import EPISODE_CANCELLED, EPISODE_ENDED, episode_room
from shopcast.live.handover import Handover
from shopcast.live.hls import finish_abandoned_playlist
from shopcast.live.network import WebRtcNetwork
from shopcast.live.offers import Offer, read_offer
from shopcast.live.origins import LocalOrigins, Origins
from shopcast.live.recordings import Recordings
from shopcast.live.relay import Fanout
from shopcast.live.sessions import ConnectionWatch, Publisher, Session, answer_host, answer_viewer, close_connection
from shopcast.live.upstream import OriginLink

log = logging.getLogger(__name__)


class Broadcasts(Handover):
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
        origins: Origins | None = None,
        link: OriginLink | None = None,
        linger_seconds: float = 10.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self.origins = origins or LocalOrigins()
        self._recordings = (
            None
            if hls_root is None
            else Recordings(hls_root, origins=self.origins, segment_seconds=hls_segment_seconds, clock=clock)
        )
        self._hls_segment_seconds = hls_segment_seconds
        self._network = network
        self._bus = bus
        self._grace = grace_seconds
        self._connect_seconds = connect_seconds
        self._on_publisher_gone = on_publisher_gone
        self._min_keyframe_interval = min_keyframe_interval
        self._link = link
        self._linger = linger_seconds
        self._poll = poll_seconds
        self._broadcasts: dict[uuid.UUID, Broadcast] = {}
        self._ending: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # One change of source at a time per episode: two offers building at once could both register.
        self._locks: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    def _lock(self, episode_id: uuid.UUID) -> asyncio.Lock:
        return self._locks.setdefault(episode_id, asyncio.Lock())

    async def _quietly(self, what: str, call: Awaitable[None]) -> None:
        """A Redis call whose failure must not stop a show's teardown (the lease then lapses by itself)."""
        try:
            await call
        except Exception:
            log.exception("could not %s", what)

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
        lock = self._lock(episode_id)
        async with lock:
            broadcast = self._broadcasts.get(episode_id)
            current = broadcast.publisher if broadcast is not None else None
            if current is not None and current.holds_the_episode:
                if identity is None or identity != current.identity:
                    raise Conflict("errors.media.someone_else")
            else:
                await self._check_no_one_else(episode_id, identity)
            fresh = broadcast is None
            if broadcast is None:
                broadcast = Broadcast(episode_id, {kind: self._fanout(kind) for kind in ("video", "audio")})
            hls = self._recordings is not None
            packager = broadcast.packager
            decode = {"video": hls, "audio": hls and (packager.has_audio if packager is not None else has_audio)}
            publisher, answer = await answer_host(
                self._network, broadcast.fanouts, offer, identity, has_audio=has_audio, decode=decode
            )
            # Nothing below can fail: from here the session is the episode's.
            if fresh:
                self._register(broadcast)
            broadcast.publisher = publisher
            if broadcast.upstream is None:  # a pulled show keeps asking its origin until this host is up
                self._connect_fanouts(broadcast, publisher)
            broadcast.codecs = codecs.negotiated(answer)
            self._cancel_grace(broadcast)
            self._cancel_linger(broadcast)
            if current is not None:
                await close_connection(current.pc)
        self._spawn(self._run_publisher(broadcast, publisher, on_connected), f"publisher-{episode_id}")
        return Session(publisher.session, answer)

    def _register(self, broadcast: Broadcast) -> None:
        self._broadcasts[broadcast.episode_id] = broadcast
        broadcast.follower = asyncio.create_task(
            self._follow(broadcast.episode_id), name=f"broadcast-{broadcast.episode_id}"
        )

    def _fanout(self, kind: str) -> Fanout:
        return Fanout(kind, min_keyframe_interval=self._min_keyframe_interval, max_queue=MAX_QUEUE[kind])

    @staticmethod
    def _connect_fanouts(broadcast: Broadcast, publisher: Publisher) -> None:
        for kind, ask in publisher.ask_keyframe.items():
            broadcast.fanouts[kind].connect_publisher(ask)

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
        if broadcast.publisher is not publisher:
            return
        # This process is the show's origin from now on, wherever the host published before.
        claim = self.origins.claim(broadcast.episode_id, publisher_connected=True, host=publisher.identity)
        await self._quietly("claim the show", claim)
        upstream, broadcast.upstream = broadcast.upstream, None
        if upstream is not None:
            await upstream.close()
            self._connect_fanouts(broadcast, publisher)
        if self._recordings is not None:
            await self._recordings.follow(broadcast)

    async def _publisher_lost(self, broadcast: Broadcast, publisher: Publisher) -> None:
        """The host's connection failed, closed or never came up."""
        await close_connection(publisher.pc)
        if broadcast.publisher is not publisher or self._broadcasts.get(broadcast.episode_id) is not broadcast:
            return  # taken over by a newer session, or the show ended
        if broadcast.live:
            self._start_grace(broadcast)
        elif broadcast.upstream is not None:
            # A host who never came up here: the show is still pulled from its origin for the viewers.
            broadcast.publisher = None
            broadcast.upstream.reconnect_fanouts()
            self._linger_if_idle(broadcast)
        else:
            await self._tear_down(broadcast)  # the episode never went live: nothing to wait for

    async def _tear_down(self, broadcast: Broadcast) -> None:
        if self._broadcasts.get(broadcast.episode_id) is broadcast:
            await self._end(broadcast.episode_id)

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
        self._spawn(self._end_abandoned(broadcast.episode_id), f"publisher-gone-{broadcast.episode_id}")

    async def _end_abandoned(self, episode_id: uuid.UUID) -> None:
        if not await self.origins.may_end(episode_id):
            log.info("host of episode %s went to another process: not ending it here", episode_id)
            return
        log.info("publisher of episode %s did not come back: ending the show", episode_id)
        await self._on_publisher_gone(episode_id)

    def is_publisher(self, episode_id: uuid.UUID, session: str) -> bool:
        broadcast = self._broadcasts.get(episode_id)
        return (
            broadcast is not None
            and broadcast.publisher is not None
            and secrets.compare_digest(broadcast.publisher.session, session)
        )

    # --- the viewers -----------------------------------------------------------------------

    async def watch(self, episode_id: uuid.UUID, sdp: str) -> Session:
        """A receive-only session (WHEP) on the host's forwarded packets, here or pulled from the origin."""
        offer = read_offer(sdp, sends=False, network=self._network)
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None:
            broadcast = await self._pulled(episode_id)
        codecs.check_watchable(offer, broadcast.codecs)
        broadcast.arriving += 1
        self._cancel_linger(broadcast)
        try:
            pc, answer = await self._connect_viewer(broadcast, offer)
        finally:
            broadcast.arriving -= 1
            self._linger_if_idle(broadcast)
        session = secrets.token_urlsafe(16)
        broadcast.viewers[session] = pc
        self._spawn(self._run_viewer(broadcast, session, pc), f"viewer-{episode_id}")
        return Session(session, answer)

    async def relay(self, episode_id: uuid.UUID, sdp: str) -> Session:
        """Another process's pull of the show (a WHEP session between servers): only from its origin."""
        offer = read_offer(sdp, sends=False, network=self._network)
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None or not broadcast.is_origin:
            raise Conflict("errors.media.not_origin")
        pc, answer = await self._connect_viewer(broadcast, offer)
        session = secrets.token_urlsafe(16)
        broadcast.relays[session] = pc
        self._spawn(self._run_viewer(broadcast, session, pc), f"relay-{episode_id}")
        return Session(session, answer)

    async def _connect_viewer(self, broadcast: Broadcast, offer: Offer) -> tuple[RTCPeerConnection, str]:
        pc, answer = await answer_viewer(self._network, broadcast.fanouts, broadcast.codecs, offer)
        if self._broadcasts.get(broadcast.episode_id) is not broadcast:
            await close_connection(pc)
            raise Conflict("errors.media.off_air")
        return pc, answer

    async def _run_viewer(self, broadcast: Broadcast, session: str, pc: RTCPeerConnection) -> None:
        watch = ConnectionWatch(pc)
        try:
            if await watch.connected(within=self._connect_seconds):
                await watch.ended()
        finally:
            await self._close_viewer(broadcast, session)

    async def _close_viewer(self, broadcast: Broadcast, session: str) -> None:
        pc = broadcast.viewers.pop(session, None) or broadcast.relays.pop(session, None)
        if pc is not None:
            await close_connection(pc)
        self._linger_if_idle(broadcast)

    async def leave(self, episode_id: uuid.UUID, session: str, *, relay: bool = False) -> None:
        """A viewer's session ends (`relay`: another process's pull)."""
        broadcast = self._broadcasts.get(episode_id)
        if broadcast is None or session not in (broadcast.relays if relay else broadcast.viewers):
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
        await self._end(episode_id)
        await self._quietly("forget the show", self.origins.forget(episode_id))

    async def _end(self, episode_id: uuid.UUID) -> None:
        """Close what this process holds of the show (it is over, or this process stops)."""
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
        self._cancel_linger(broadcast)
        if broadcast.follower is not None:
            broadcast.follower.cancel()
        for session in list(broadcast.viewers) + list(broadcast.relays):
            await self._close_viewer(broadcast, session)
        if broadcast.upstream is not None:
            await broadcast.upstream.close()
        for fanout in broadcast.fanouts.values():
            fanout.close()
        if broadcast.publisher is not None:
            await close_connection(broadcast.publisher.pc)
        if self._recordings is not None:  # the playlist is now complete: the replay
            await self._quietly("let go of the recording", self._recordings.stop(broadcast))
        if broadcast.live:
            await self._quietly("give the show back", self.origins.release(broadcast.episode_id))

    async def close(self) -> None:
        """This process stops: the shows go on elsewhere (the host reconnects to another process) or end."""
        for episode_id in list(self._broadcasts):
            await self._end(episode_id)
        for ending in list(self._ending.values()):
            await asyncio.shield(ending)
        for task in list(self._tasks):
            await tasks.stop(task)

    def hls_folder(self, episode_id: uuid.UUID) -> Path | None:
        """Where the episode's HLS playlist and segments are (live, then the replay), if HLS is on."""
        return None if self._recordings is None else self._recordings.root / str(episode_id)

    def carries(self, episode_id: uuid.UUID) -> bool:
        """Whether this process holds the episode's broadcast (its host connecting, connected or awaited)."""
        return episode_id in self._broadcasts

    def stats(self, episode_id: uuid.UUID) -> BroadcastStats | None:
        broadcast = self._broadcasts.get(episode_id)
        return None if broadcast is None else broadcast.stats()

    def open_connections(self) -> int:
        """Peer connections this process holds open (for leak checks)."""
        return sum(
            len(b.viewers)
            + len(b.relays)
            + (b.publisher is not None and b.publisher.pc.connectionState != "closed")
            + (b.upstream is not None and b.upstream.holds_connection)
            for b in self._broadcasts.values()
        )
