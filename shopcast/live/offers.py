"""What a WHIP or WHEP offer must hold before Shopcast builds anything for it.

aiortc's SDP parser trusts its input: a malformed line raises AssertionError, IndexError,
StopIteration... And some gaps only show once the connection runs, in aiortc's own tasks, where
nobody hears about them: without a fingerprint or a setup role the DTLS start fails, without a
direction the answer cannot be made, a BUNDLE naming no section leaves a transport missing. So an
offer is read here in full first, and what Shopcast cannot use is a 400 naming the reason; aiortc
then only gets offers it can finish (what still fails, e.g. a DTLS handshake with the wrong
certificate, is a failed connection, closed by its session).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from aiortc.sdp import DTLS_SETUP_ROLE, MediaDescription, SessionDescription

from shopcast.core.errors import BadRequest
from shopcast.live.network import WebRtcNetwork

MAX_SDP_BYTES = 64 * 1024
# What aiortc can check a peer's certificate with, and the digest's length in bytes.
FINGERPRINT_BYTES = {"sha-256": 32, "sha-384": 48, "sha-512": 64}
SENDING = ("sendonly", "sendrecv")
RECEIVING = ("recvonly", "sendrecv")

# The m= and c= lines as aiortc reads them (it asserts they match).
_MEDIA_LINE = re.compile(r"^m=([^ ]+) ([0-9]+) ([A-Z/]+) (.+)$")
_CONNECTION_LINE = re.compile(r"^c=IN (IP4|IP6) ([^ ]+)$")
_ICE_CHARS = re.compile(r"^[A-Za-z0-9+/]+$")  # RFC 8839 ice-char
_HEX_BYTES = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$")
_FORBIDDEN_PAYLOAD_TYPES = range(72, 77)  # RTCP packet types (RFC 5761)


@dataclass(frozen=True)
class Offer:
    """An offer Shopcast can answer: `sdp` is what is applied (candidates of other networks removed)."""

    sdp: str
    description: SessionDescription

    @property
    def kinds(self) -> list[str]:
        """The media kinds, in the offer's order (one section each)."""
        return [m.kind for m in self.description.media]

    def codecs(self, kind: str) -> list[str]:
        return [c.mimeType for m in self.description.media if m.kind == kind for c in m.rtp.codecs]


def read_offer(sdp: str, *, sends: bool, network: WebRtcNetwork) -> Offer:
    """The offer, checked: `sends` for a host's (WHIP), else a viewer's (WHEP); BadRequest with the reason."""
    if len(sdp.encode()) > MAX_SDP_BYTES:
        raise BadRequest("errors.sdp.too_large", limit=MAX_SDP_BYTES)
    if not sdp.startswith("v=0"):
        raise BadRequest("errors.sdp.not_sdp")
    applied = network.filter_remote_candidates(sdp)
    _check_lines(applied)
    try:
        description = SessionDescription.parse(applied)
    except Exception as exc:  # the parser's own asserts and lookups: any of them means a bad line
        raise BadRequest("errors.sdp.malformed", line=_quoted(_first_unreadable(applied))) from exc
    if not description.media:
        raise BadRequest("errors.sdp.no_media")
    mids: set[str] = set()
    for media in description.media:
        _check_section(media, sends=sends, network=network)
        if media.rtp.muxId in mids:
            raise BadRequest("errors.sdp.two_mids", mid=media.rtp.muxId)
        mids.add(media.rtp.muxId)
    kinds = [m.kind for m in description.media]
    if len(kinds) != len(set(kinds)):
        raise BadRequest("errors.sdp.one_each")
    for group in description.group:
        if group.semantic == "BUNDLE" and (not group.items or not {str(i) for i in group.items} <= mids):
            raise BadRequest("errors.sdp.bundle")
    return Offer(applied, description)


def _quoted(line: str) -> str:
    return repr(line if len(line) <= 80 else line[:77] + "...")


def _first_unreadable(sdp: str) -> str:
    """The line where aiortc's parser first fails: the shortest failing run of lines, by bisection."""
    lines = sdp.splitlines()
    readable, unreadable = 0, len(lines)
    while unreadable - readable > 1:
        middle = (readable + unreadable) // 2
        try:
            SessionDescription.parse("\r\n".join(lines[:middle]))
            readable = middle
        except Exception:
            unreadable = middle
    return lines[unreadable - 1] if lines else ""


def _check_lines(sdp: str) -> None:
    """The lines aiortc asserts on, with the line named rather than a bare 'cannot be read'."""
    for line in sdp.splitlines():
        if line.startswith("m="):
            match = _MEDIA_LINE.match(line)
            formats = match.group(4).split() if match else []
            if match is None or (
                match.group(1) in ("audio", "video")
                and not all(f.isdigit() and int(f) < 256 and int(f) not in _FORBIDDEN_PAYLOAD_TYPES for f in formats)
            ):
                raise BadRequest("errors.sdp.m_line", line=_quoted(line))
        elif line.startswith("c=") and not _CONNECTION_LINE.match(line):
            raise BadRequest("errors.sdp.c_line", line=_quoted(line))
        elif line.startswith("a=setup:") and line[8:] not in DTLS_SETUP_ROLE:
            raise BadRequest("errors.sdp.setup_role", line=_quoted(line))


def _check_section(media: MediaDescription, *, sends: bool, network: WebRtcNetwork) -> None:
    kind = media.kind
    if kind not in ("audio", "video"):
        raise BadRequest("errors.sdp.kind", kind=kind)

    def refuse(key: str, **params: object) -> BadRequest:
        """The section's fault: `key`'s message names the section's `kind`."""
        return BadRequest(key, kind=kind, **params)

    if not media.rtp.muxId:
        raise refuse("errors.sdp.no_mid")
    if not media.rtcp_mux:
        raise refuse("errors.sdp.no_rtcp_mux")
    for name, value, shortest in (("ice-ufrag", media.ice.usernameFragment, 4), ("ice-pwd", media.ice.password, 22)):
        if not value:
            raise refuse("errors.sdp.no_ice", name=name)
        if not shortest <= len(value) <= 256 or not _ICE_CHARS.match(value):
            raise refuse("errors.sdp.bad_ice", name=name, shortest=shortest)
    if media.dtls is None:
        raise refuse("errors.sdp.no_setup")
    _check_fingerprints(media, refuse)
    if media.direction is None:
        raise refuse("errors.sdp.no_direction")
    if sends and media.direction not in SENDING:
        raise refuse("errors.sdp.not_sending", direction=media.direction)
    if not sends and media.direction not in RECEIVING:
        raise refuse("errors.sdp.not_receiving", direction=media.direction)
    for extension in media.rtp.headerExtensions:
        if not 1 <= extension.id <= 255:
            raise refuse("errors.sdp.extmap", id=extension.id)
    if any(not 0 <= s.ssrc < 2**32 for s in media.ssrc) or any(
        not 0 <= int(i) < 2**32 for g in media.ssrc_group for i in g.items
    ):
        raise refuse("errors.sdp.ssrc")
    for candidate in media.ice_candidates:
        # Well-formed candidates of other networks were removed before; what is left must be usable.
        if not network.allows_peer(candidate.ip) or not 1 <= candidate.port <= 65535:
            raise refuse("errors.sdp.candidate", ip=candidate.ip, port=candidate.port)


def _check_fingerprints(media: MediaDescription, refuse: Callable[..., BadRequest]) -> None:
    # aiortc needs one it can check, and every one it can check must match the certificate.
    fingerprints = media.dtls.fingerprints if media.dtls is not None else []
    usable = [f for f in fingerprints if f.algorithm.lower() in FINGERPRINT_BYTES]
    if not usable:
        raise refuse("errors.sdp.no_fingerprint")
    for fingerprint in usable:
        length = FINGERPRINT_BYTES[fingerprint.algorithm.lower()]
        if not _HEX_BYTES.match(fingerprint.value) or len(fingerprint.value) != 3 * length - 1:
            raise refuse("errors.sdp.bad_fingerprint", algorithm=fingerprint.algorithm, length=length)
