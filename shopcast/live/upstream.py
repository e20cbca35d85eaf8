"""A show whose host publishes to another app process: pulled from there once, fanned out here.

The pull is a WHEP session between servers: this process offers to receive the video and sound, the
origin answers in the host's codecs, and the encoded frames go into this process's fan-outs untouched
(no decoding, no re-encoding), as the host's do on the origin. This process's viewers' keyframe
requests go up to the origin, which asks the host; each hop rate-limits them.

If the pull breaks (the origin stopped, the host moved to another process), viewers keep their
sessions and the picture freezes, as during a host's reconnection on one process. The pull is made
again from whichever process carries the show next; if none does within the grace period the show is
ended (live/origins.py), and the viewers' sessions with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from shopcast.core import tasks
from shopcast.core.errors import Busy, Conflict
from shopcast.live import codecs
from shopcast.live.network import WebRtcNetwork, offered_candidates
from shopcast.live.origins import Origin, Origins
from shopcast.live.relay import Fanout, tap_receiver
from shopcast.live.sessions import ConnectionWatch, close_connection

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2  # a viewer told the origin cannot be reached tries again (or HLS) after this


class OriginRefused(Exception):
    """The origin could not be reached, or refused the pull (it no longer carries the show)."""


class OriginLink(Protocol):
    """How one app process asks another for a show's stream (over HTTP: shopcast.web.origin_link)."""

    async def pull(self, origin: Origin, episode_id: uuid.UUID, offer: str) -> tuple[str, str]:
        """The origin's SDP answer to `offer` and its session's address; OriginRefused if it cannot."""
        ...

    async def hang_up(self, origin: Origin, episode_id: uuid.UUID, session: str) -> None:
        """End a pull's session at the origin (best effort: closing the connection ends it too)."""
        ...


class Upstream:
    """One show's stream, pulled from its origin into this process's fan-outs, pulled again if it breaks."""

    def __init__(
        self,
        episode_id: uuid.UUID,
        fanouts: dict[str, Fanout],
        *,
        origins: Origins,
        link: OriginLink,
        network: WebRtcNetwork,
        connect_seconds: float,
        poll_seconds: float,
    ) -> None:
        self._episode_id = episode_id
        self._fanouts = fanouts
        self._origins = origins
        self._link = link
        self._network = network
        self._connect_seconds = connect_seconds
        self._poll = poll_seconds
        self._pc: RTCPeerConnection | None = None
        self._session: str | None = None
        self._asks: dict[str, Callable[[], None]] = {}
        self._keeper: asyncio.Task[None] | None = None
        self.origin: Origin | None = None
        self.pulls = 0  # sessions opened at an origin, the first and every one after a break

    async def start(self) -> dict[str, RTCRtpCodecCapability]:
        """The first pull; the codecs the origin sends. Conflict if no other process carries the show."""
        origin = await self._origins.find(self._episode_id)
        if origin is None or origin.replica == self._origins.replica:
            raise Conflict("errors.media.not_on_air")
        try:
            answer = await self._pull(origin)
        except OriginRefused as exc:
            log.warning("could not pull episode %s from %s: %s", self._episode_id, origin.url, exc)
            raise Busy("errors.media.origin_unreachable", retry_after=RETRY_AFTER_SECONDS) from exc
        self.keep_up()
        return codecs.negotiated(answer, sent_only=True)

    def keep_up(self) -> None:
        """Keep pulling the show from whichever process carries it, until closed."""
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep(), name=f"upstream-{self._episode_id}")

    def reconnect_fanouts(self) -> None:
        """Viewers' keyframe requests go to the origin again (a host who published here did not come up)."""
        for kind, ask in self._asks.items():
            self._fanouts[kind].connect_publisher(ask)

    async def _pull(self, origin: Origin) -> str:
        """Open a session at `origin`, its frames feeding the fan-outs; its answer."""
        pc = RTCPeerConnection(self._network.configuration())
        asks = {}
        try:
            for kind in ("video", "audio"):
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                transceiver.setCodecPreferences(codecs.received(kind))
                asks[kind] = tap_receiver(transceiver.receiver, self._fanouts[kind])
            await pc.setLocalDescription(await pc.createOffer())
            answer, session = await self._link.pull(origin, self._episode_id, pc.localDescription.sdp)
            try:
                await pc.setRemoteDescription(
                    RTCSessionDescription(self._network.filter_remote_candidates(answer), "answer")
                )
            except Exception as exc:
                await self._link.hang_up(origin, self._episode_id, session)
                raise OriginRefused(f"unusable answer: {exc!r}") from exc
        except BaseException:
            await close_connection(pc)
            raise
        self._asks = asks
        self.reconnect_fanouts()
        self._pc, self._session, self.origin = pc, session, origin
        self.pulls += 1
        return answer

    async def _keep(self) -> None:
        """Pull again whenever the pull breaks or the show moves to another process, until closed."""
        while True:
            if self._pc is not None:
                await self._until_broken_or_moved(self._pc)
                await self._hang_up()
            try:
                origin = await self._origins.find(self._episode_id)
                if origin is not None and origin.replica != self._origins.replica:
                    await self._pull(origin)
                    continue
            except OriginRefused as exc:
                log.info("episode %s: pulling again from %s failed: %s", self._episode_id, origin, exc)
            except Exception:
                log.exception("episode %s: could not look up its origin", self._episode_id)
            await asyncio.sleep(self._poll)

    async def _until_broken_or_moved(self, pc: RTCPeerConnection) -> None:
        watch = ConnectionWatch(pc)
        if not await watch.connected(within=self._connect_seconds):
            return
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await watch.ended()
                    return
            # A process that died leaves its connection looking alive for a while: the lease tells sooner.
            with contextlib.suppress(Exception):
                current = await self._origins.find(self._episode_id)
                if current is not None and self.origin is not None and current.replica != self.origin.replica:
                    return

    async def _hang_up(self) -> None:
        pc, session, origin = self._pc, self._session, self.origin
        self._pc = self._session = None
        # The session first, while the origin still holds it; closing the connection would end it there too.
        if session is not None and origin is not None:
            await self._link.hang_up(origin, self._episode_id, session)
        if pc is not None:
            await close_connection(pc)

    @property
    def connected(self) -> bool:
        return self._pc is not None and self._pc.connectionState == "connected"

    @property
    def holds_connection(self) -> bool:
        return self._pc is not None and self._pc.connectionState != "closed"

    def candidates(self) -> list[str]:
        """The addresses in the current pull's offer and answer (both servers' ICE candidates)."""
        pc = self._pc
        if pc is None:
            return []
        sdps = [d.sdp for d in (pc.localDescription, pc.remoteDescription) if d is not None]
        return [address for sdp in sdps for address in offered_candidates(sdp)]

    async def close(self) -> None:
        await tasks.stop(self._keeper)
        await self._hang_up()
