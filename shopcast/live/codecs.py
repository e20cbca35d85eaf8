"""Which codecs go in and out: the host's VP8 or H264 and Opus, forwarded untouched to viewers who take them."""

from __future__ import annotations

from aiortc import RTCRtpSender
from aiortc.exceptions import OperationError
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.sdp import SessionDescription

from shopcast.core.errors import BadRequest, ShopcastError, UnsupportedMediaType
from shopcast.live.offers import Offer

PUBLISHED = {"video": ("video/VP8", "video/H264"), "audio": ("audio/opus",)}


def check_publishable(offer: Offer) -> bool:
    """Whether the host's offer has sound; UnsupportedMediaType if it has no codec Shopcast takes."""
    video = [c for c in offer.codecs("video") if c in PUBLISHED["video"]]
    audio = [c for c in offer.codecs("audio") if c in PUBLISHED["audio"]]
    if not video or (offer.codecs("audio") and not audio):
        raise not_publishable()
    return bool(audio)


def not_publishable() -> UnsupportedMediaType:
    return UnsupportedMediaType("errors.media.not_publishable")


def not_watchable(mime_type: str) -> UnsupportedMediaType:
    return UnsupportedMediaType("errors.media.not_watchable", codec=mime_type)


def check_watchable(offer: Offer, codecs: dict[str, RTCRtpCodecCapability]) -> None:
    """UnsupportedMediaType if the viewer cannot take the host's codec (it is forwarded, not re-encoded)."""
    for kind, codec in codecs.items():
        if kind in offer.kinds and codec.mimeType not in offer.codecs(kind):
            raise not_watchable(codec.mimeType)


def received(kind: str) -> list[RTCRtpCodecCapability]:
    """What the host's connection accepts, in aiortc's order of preference."""
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    return [c for c in codecs if c.mimeType in PUBLISHED[kind] or c.name == "rtx"]


def forwarded(kind: str, codec: RTCRtpCodecCapability) -> list[RTCRtpCodecCapability]:
    """Only the codec the host sends: packets are forwarded, not re-encoded."""
    capabilities = RTCRtpSender.getCapabilities(kind).codecs
    same = [
        c
        for c in capabilities
        if c.mimeType == codec.mimeType
        and (
            c.mimeType != "video/H264"
            or c.parameters.get("packetization-mode") == codec.parameters.get("packetization-mode")
        )
    ]
    return same + [c for c in capabilities if c.name == "rtx"]


def negotiated(answer: str, *, sent_only: bool = False) -> dict[str, RTCRtpCodecCapability]:
    """The codec agreed per kind, from Shopcast's answer to the host (or, `sent_only`, from an origin's
    answer to a pull: only the kinds it sends, as a host without a microphone sends no sound)."""
    chosen: dict[str, RTCRtpCodecCapability] = {}
    for media in SessionDescription.parse(answer).media:
        if sent_only and media.direction not in ("sendonly", "sendrecv"):
            continue
        first = next((c for c in media.rtp.codecs if c.name != "rtx"), None)
        if first is not None:
            chosen[media.kind] = RTCRtpCodecCapability(
                mimeType=first.mimeType,
                clockRate=first.clockRate,
                channels=first.channels,
                parameters=dict(first.parameters),
            )
    return chosen


def refusal(exc: Exception, *, no_common_codec: UnsupportedMediaType) -> ShopcastError:
    """What aiortc's refusal of a checked offer means for the client."""
    if isinstance(exc, OperationError):  # aiortc found no codec in common (e.g. an H264 profile it lacks)
        return no_common_codec
    return BadRequest("errors.sdp.unusable", reason=str(exc))
