"""A WebRTC session's life: built from a checked offer, connected within a deadline, or closed.

aiortc reports a connection's progress only through `connectionstatechange`; a connection whose
peer never answers (an encoder that died, a firewall, a forged offer) stays "connecting" for as
long as ICE keeps trying. Every session therefore gets a deadline to connect: past it, or when
its connection fails, the session is closed and gives back what it held.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import MediaStreamTrack, RTCPeerConnection

ENDED = ("failed", "closed")


@dataclass(frozen=True)
class Session:
    id: str
    answer: str


@dataclass
class Publisher:
    """One WHIP session of the host."""

    pc: RTCPeerConnection
    session: str
    identity: uuid.UUID | None
    has_audio: bool
    tracks: dict[str, MediaStreamTrack]
    ask_keyframe: dict[str, Callable[[], None]]

    @property
    def connected(self) -> bool:
        return self.pc.connectionState == "connected"

    @property
    def holds_the_episode(self) -> bool:
        """Connected or still connecting: nobody else may publish meanwhile."""
        return self.pc.connectionState not in ENDED


class ConnectionWatch:
    """Awaitable states of one peer connection."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self._pc = pc
        self._changed = asyncio.Event()
        pc.on("connectionstatechange", self._changed.set)

    async def _reach(self, *states: str) -> str:
        while self._pc.connectionState not in states:
            self._changed.clear()
            await self._changed.wait()
        return self._pc.connectionState

    async def connected(self, *, within: float) -> bool:
        """Whether ICE and DTLS complete within `within` seconds (False: failed, closed or too slow)."""
        try:
            async with asyncio.timeout(within):
                return await self._reach("connected", *ENDED) == "connected"
        except TimeoutError:
            return False

    async def ended(self) -> None:
        """Returns once the connection has failed or been closed."""
        await self._reach(*ENDED)


async def close_connection(pc: RTCPeerConnection) -> None:
    """Close `pc` and stop what it sends (a viewer's forwarded tracks leave their fan-out)."""
    for transceiver in pc.getTransceivers():
        track = transceiver.sender.track
        if track is not None:
            track.stop()
    await pc.close()
