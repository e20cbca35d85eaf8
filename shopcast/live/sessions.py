"""A WebRTC session's life: built from a checked offer, connected within a deadline, or closed.

aiortc reports a connection's progress only through `connectionstatechange`; a connection whose
peer never answers (an encoder that died, a firewall, a forged offer) stays "connecting" for as
long as ICE keeps trying. Every session therefore gets a deadline to connect: past it, or when
its connection fails, the session is closed and gives back what it held.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from shopcast.live import codecs
from shopcast.live.network import WebRtcNetwork
from shopcast.live.offers import Offer
from shopcast.live.relay import Fanout, route_keyframe_requests, tap_receiver

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


async def _answer(pc: RTCPeerConnection, offer: Offer) -> str:
    await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp


async def answer_host(
    network: WebRtcNetwork,
    fanouts: dict[str, Fanout],
    offer: Offer,
    identity: uuid.UUID | None,
    *,
    has_audio: bool,
    decode: dict[str, bool],
) -> tuple[Publisher, str]:
    """The host's connection feeding `fanouts` (`decode`: per kind, also decoded for HLS), answered; closed
    again if aiortc refuses the offer."""
    pc = RTCPeerConnection(network.configuration())
    asks = {}
    try:
        # Transceivers made before the offer is applied: aiortc negotiates codecs while applying
        # it, matching the offer's sections to these, so their preferences are what is agreed.
        for kind in offer.kinds:
            transceiver = pc.addTransceiver(kind, direction="recvonly")
            transceiver.setCodecPreferences(codecs.received(kind))
            asks[kind] = tap_receiver(transceiver.receiver, fanouts[kind], decode=decode[kind])
        answer = await _answer(pc, offer)
    except BaseException as exc:
        await close_connection(pc)
        if not isinstance(exc, Exception):
            raise
        raise codecs.refusal(exc, no_common_codec=codecs.not_publishable()) from exc
    # The receivers' tracks exist once the offer is applied.
    tracks = {t.kind: t.receiver.track for t in pc.getTransceivers()}
    return Publisher(pc, secrets.token_urlsafe(16), identity, has_audio, tracks, asks), answer


async def answer_viewer(
    network: WebRtcNetwork, fanouts: dict[str, Fanout], sent: dict[str, RTCRtpCodecCapability], offer: Offer
) -> tuple[RTCPeerConnection, str]:
    """A connection sending `fanouts` in the codecs `sent`, answered; closed again if the offer is refused."""
    pc = RTCPeerConnection(network.configuration())
    try:
        # As for the host: the viewer's transceivers exist, with the host's codec only, before
        # the offer is applied, so that codec is the one agreed and the packets fit it.
        for kind in offer.kinds:
            codec = sent.get(kind)
            if codec is None:
                continue
            fanout = fanouts[kind]
            transceiver = pc.addTransceiver(fanout.subscribe(), direction="sendonly")
            transceiver.setCodecPreferences(codecs.forwarded(kind, codec))
            route_keyframe_requests(transceiver.sender, fanout)
        answer = await _answer(pc, offer)
    except BaseException as exc:
        await close_connection(pc)
        if not isinstance(exc, Exception):
            raise
        main = sent.get("video") or next(iter(sent.values()))
        raise codecs.refusal(exc, no_common_codec=codecs.not_watchable(main.mimeType)) from exc
    return pc, answer
