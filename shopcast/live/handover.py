"""What several app processes add to a process's broadcasts: shows pulled from their origin, let go when
nobody here watches them, and handed over when the host publishes to another process.

A part of `Broadcasts` (live/broadcasts.py), apart because it is its own concern: the registry, the
locks and the teardown it uses are Broadcasts'.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Coroutine
from typing import Any

from shopcast.core.errors import Conflict
from shopcast.live.broadcast import Broadcast
from shopcast.live.network import WebRtcNetwork
from shopcast.live.origins import Origins
from shopcast.live.recordings import Recordings
from shopcast.live.relay import Fanout
from shopcast.live.sessions import close_connection
from shopcast.live.upstream import OriginLink, Upstream

log = logging.getLogger(__name__)


class Handover:
    """Pulled shows and origin leases, for Broadcasts."""

    # Broadcasts' own, used here.
    origins: Origins
    _broadcasts: dict[uuid.UUID, Broadcast]
    _link: OriginLink | None
    _network: WebRtcNetwork
    _connect_seconds: float
    _poll: float
    _linger: float
    _recordings: Recordings | None

    def _lock(self, episode_id: uuid.UUID) -> asyncio.Lock:
        raise NotImplementedError

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        raise NotImplementedError

    def _fanout(self, kind: str) -> Fanout:
        raise NotImplementedError

    def _register(self, broadcast: Broadcast) -> None:
        raise NotImplementedError

    def _cancel_grace(self, broadcast: Broadcast) -> None:
        raise NotImplementedError

    async def _close_viewer(self, broadcast: Broadcast, session: str) -> None:
        raise NotImplementedError

    async def _finish(self, broadcast: Broadcast) -> None:
        raise NotImplementedError

    async def _quietly(self, what: str, call: Awaitable[None]) -> None:
        raise NotImplementedError

    # --- a show whose host is on another process -------------------------------------------

    async def _pulled(self, episode_id: uuid.UUID) -> Broadcast:
        """The show as pulled from the process its host publishes to; Conflict if there is none."""
        if self._link is None:
            raise Conflict("errors.media.not_on_air")
        async with self._lock(episode_id):
            broadcast = self._broadcasts.get(episode_id)
            if broadcast is not None:
                return broadcast
            broadcast = Broadcast(episode_id, {kind: self._fanout(kind) for kind in ("video", "audio")})
            upstream = self._upstream(broadcast)
            broadcast.codecs = await upstream.start()
            if not broadcast.codecs:
                await upstream.close()
                raise Conflict("errors.media.not_on_air")
            broadcast.upstream = upstream
            self._register(broadcast)
            return broadcast

    def _upstream(self, broadcast: Broadcast) -> Upstream:
        assert self._link is not None
        return Upstream(
            broadcast.episode_id,
            broadcast.fanouts,
            origins=self.origins,
            link=self._link,
            network=self._network,
            connect_seconds=self._connect_seconds,
            poll_seconds=self._poll,
        )

    def _linger_if_idle(self, broadcast: Broadcast) -> None:
        """A pulled show nobody here watches is let go, after `linger_seconds` for viewers coming straight back."""
        if not broadcast.idle or broadcast.linger_timer is not None:
            return
        if self._broadcasts.get(broadcast.episode_id) is not broadcast:
            return
        broadcast.linger_timer = asyncio.get_running_loop().call_later(
            self._linger,
            lambda: self._spawn(self._let_go(broadcast), f"let-go-{broadcast.episode_id}"),
        )

    def _cancel_linger(self, broadcast: Broadcast) -> None:
        if broadcast.linger_timer is not None:
            broadcast.linger_timer.cancel()
            broadcast.linger_timer = None

    async def _let_go(self, broadcast: Broadcast) -> None:
        """Stop carrying a show here (it goes on elsewhere): close what it holds in this process."""
        broadcast.linger_timer = None
        async with self._lock(broadcast.episode_id):
            if self._broadcasts.get(broadcast.episode_id) is not broadcast or not broadcast.idle:
                return
            del self._broadcasts[broadcast.episode_id]
        await self._finish(broadcast)

    async def _check_no_one_else(self, episode_id: uuid.UUID, identity: uuid.UUID | None) -> None:
        """Conflict while someone else's connection is up on another process: as on one process, only the
        same person may take the show over at once (after a network change, say)."""
        origin = await self.origins.find(episode_id)
        if origin is None or origin.replica == self.origins.replica or not origin.publisher_connected:
            return
        if identity is None or str(identity) != origin.host:
            raise Conflict("errors.media.someone_else")

    # --- the shows this process is the origin of -------------------------------------------

    async def renew_origins(self) -> None:
        """Keep the leases of the shows this process is the origin of; hand over those claimed elsewhere."""
        for broadcast in list(self._broadcasts.values()):
            if not broadcast.is_origin:
                continue
            publisher = broadcast.publisher
            connected = publisher is not None and publisher.connected
            host = publisher.identity if publisher is not None else None
            if not await self.origins.renew(broadcast.episode_id, publisher_connected=connected, host=host):
                await self._moved_away(broadcast)
            elif self._recordings is not None:
                await self._recordings.keep(broadcast)

    async def _moved_away(self, broadcast: Broadcast) -> None:
        """The host published to another process, the origin now: this one pulls from it if it has viewers."""
        episode_id = broadcast.episode_id
        log.info("the host of episode %s publishes to another process now: handing the show over", episode_id)
        async with self._lock(episode_id):
            if self._broadcasts.get(episode_id) is not broadcast or not broadcast.is_origin:
                return
            self._cancel_grace(broadcast)
            broadcast.live = False
            publisher, broadcast.publisher = broadcast.publisher, None
            for session in list(broadcast.relays):
                await self._close_viewer(broadcast, session)
            if publisher is not None:
                await close_connection(publisher.pc)
            if self._recordings is not None:
                await self._quietly("let go of the recording", self._recordings.stop(broadcast))
            if self._link is not None and (broadcast.viewers or broadcast.arriving):
                broadcast.upstream = self._upstream(broadcast)
                broadcast.upstream.keep_up()
                return
            del self._broadcasts[episode_id]
        await self._finish(broadcast)

    def viewer_counts(self) -> dict[uuid.UUID, int]:
        """Connected WHEP viewers in this process, per show it carries."""
        return {episode_id: b.connected_viewers for episode_id, b in self._broadcasts.items()}
