"""WHIP (RFC 9725) for the host's stream and WHEP for viewers: SDP in, SDP out, a session to DELETE."""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from pathlib import Path
from stat import S_ISREG
from typing import Any

from aiohttp import web

from shopcast.core.errors import Busy, NotFound, Phrase, UnsupportedMediaType
from shopcast.core.ratelimit import enforce
from shopcast.core.recent import Recent
from shopcast.live import service as live
from shopcast.live.hls import live_playlist
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.network import offered_candidates
from shopcast.live.offers import MAX_SDP_BYTES
from shopcast.web.api import PRINCIPAL, client_address
from shopcast.web.context import RESOURCES
from shopcast.web.forwarding import FORWARDER
from shopcast.web.openapi import plain_operation
from shopcast.web.origin_link import RELAY_HEADER, check_relay_token, relay_path

SDP = "application/sdp"
PLAYLIST = "application/vnd.apple.mpegurl"
NO_PORT_RETRY_SECONDS = 10
SEGMENT = "video/mp2t"
# A segment this young belongs to a live show: its whole HLS audience fetches it within a few seconds,
# so it is read once and answered from memory. Older ones (the replay's, fetched a few viewers at a time)
# go out with sendfile.
FRESH_SEGMENT_SECONDS = 30
FRESH_SEGMENTS_KEPT = 32  # the newest few of several live shows; about 200 KB each at 1.6 Mbit/s
FRESH_SEGMENTS: web.AppKey[Recent[tuple[str, int, int], bytes]] = web.AppKey("fresh_segments", Recent)


def _episode_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["episode_id"])
    except ValueError:
        raise NotFound("errors.media.no_episode") from None


async def _offer(request: web.Request) -> str:
    if request.content_type != SDP:
        raise UnsupportedMediaType("errors.media.sdp_only")
    raw = await request.content.read(MAX_SDP_BYTES + 1)
    return raw.decode("utf-8", errors="replace")


def _session_id(request: web.Request, session: str) -> str:
    """The session's id in its URL: it names this process, which holds it (see web/forwarding.py)."""
    return request.app[FORWARDER].nodes.session_id(session)


def _local_session(request: web.Request) -> str:
    return request.app[FORWARDER].local_session(request.match_info["session"])


def _created(answer: str, location: str) -> web.Response:
    return web.Response(
        status=201, text=answer, content_type=SDP, headers={"Location": location, "Cache-Control": "no-store"}
    )


async def publish(request: web.Request) -> web.Response:
    """The host starts (or resumes) sending; the episode goes live once their connection is up."""
    resources = request.app[RESOURCES]
    episode_id, actor = _episode_id(request), request.get(PRINCIPAL)
    offer = await _offer(request)
    async with resources.database.transaction() as session:
        await live.check_publisher(session, actor=actor, episode_id=episode_id)

    async def go_live() -> None:
        async with resources.database.transaction() as session:
            await live.go_live(
                session, actor=actor, episode_id=episode_id, now=resources.clock.now(), bus=resources.bus
            )

    started = await resources.broadcasts.publish(
        episode_id, offer, identity=actor.id if actor else None, on_connected=go_live
    )
    return _created(started.answer, f"/live/{episode_id}/whip/{_session_id(request, started.id)}")


async def stop_publishing(request: web.Request) -> web.Response:
    """The host's WHIP client hangs up: a live show ends; a session that never went live just closes."""
    resources = request.app[RESOURCES]
    broadcasts = resources.broadcasts
    episode_id, actor = _episode_id(request), request.get(PRINCIPAL)
    async with resources.database.transaction() as session:
        episode = await live.check_publisher(session, actor=actor, episode_id=episode_id)
    if not broadcasts.is_publisher(episode_id, _local_session(request)):
        raise NotFound("errors.media.no_session")
    if episode.status == EpisodeStatus.LIVE:
        async with resources.database.transaction() as session:
            await live.change_status(
                session,
                actor=actor,
                episode_id=episode_id,
                to=EpisodeStatus.ENDED,
                now=resources.clock.now(),
                bus=resources.bus,
            )
    await broadcasts.end(episode_id)
    return web.Response(status=200)


async def watch(request: web.Request) -> web.Response:
    """A viewer's receive-only session on the live episode."""
    resources = request.app[RESOURCES]
    broadcasts = resources.broadcasts
    episode_id = _episode_id(request)
    await enforce(
        resources.limiter,
        f"whep:{client_address(request)}",
        limit=30,
        window_seconds=60,
        what=Phrase("errors.limit.viewing"),
    )
    offer = await _offer(request)
    async with resources.database.transaction() as session:
        await live.check_watchable(session, episode_id=episode_id)
    started = await broadcasts.watch(episode_id, offer)
    if not offered_candidates(started.answer):
        # No port could be bound (every one of SHOPCAST_WEBRTC_PORTS in use): told now, the player
        # turns to HLS, rather than a session that can never connect.
        await broadcasts.leave(episode_id, started.id)
        raise Busy("errors.media.no_ports", retry_after=NO_PORT_RETRY_SECONDS)
    return _created(started.answer, f"/live/{episode_id}/whep/{_session_id(request, started.id)}")


async def leave(request: web.Request) -> web.Response:
    await request.app[RESOURCES].broadcasts.leave(_episode_id(request), _local_session(request))
    return web.Response(status=200)


async def relay(request: web.Request) -> web.Response:
    """Another app process pulls the show from this one, its origin, for its own WHEP viewers."""
    resources = request.app[RESOURCES]
    episode_id = _episode_id(request)
    check_relay_token(resources.signer, request.headers.get(RELAY_HEADER), episode_id)
    offer = await _offer(request)
    started = await resources.broadcasts.relay(episode_id, offer)
    return _created(started.answer, f"{relay_path(episode_id)}/{started.id}")


async def stop_relay(request: web.Request) -> web.Response:
    resources = request.app[RESOURCES]
    episode_id = _episode_id(request)
    check_relay_token(resources.signer, request.headers.get(RELAY_HEADER), episode_id)
    await resources.broadcasts.leave(episode_id, request.match_info["session"], relay=True)
    return web.Response(status=200)


_HLS_FILE = re.compile(r"^(index\.m3u8|seg\d{5}\.ts)$")


async def hls_file(request: web.Request) -> web.StreamResponse:
    """The live playlist and segments while on air; the same playlist, complete, is the replay."""
    episode_id, name = _episode_id(request), request.match_info["name"]
    folder = request.app[RESOURCES].broadcasts.hls_folder(episode_id)
    if not _HLS_FILE.match(name) or folder is None:
        raise NotFound("errors.media.no_hls_file")
    path = folder / name
    stat = _file_stat(path)
    if stat is None:
        raise NotFound("errors.media.no_hls_yet" if name.endswith(".m3u8") else "errors.media.no_segment")
    if name.endswith(".m3u8"):
        return _playlist(request, path)
    return await _segment(request, path, stat)


def _file_stat(path: Path) -> os.stat_result | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat if S_ISREG(stat.st_mode) else None


async def _segment(request: web.Request, path: Path, stat: os.stat_result) -> web.StreamResponse:
    # Segments never change once listed.
    headers = {"Content-Type": SEGMENT, "Cache-Control": "public, max-age=31536000, immutable"}
    if time.time() - stat.st_mtime > FRESH_SEGMENT_SECONDS:
        return web.FileResponse(path, headers=headers)
    # The validators FileResponse gives the same file, so a cache sees one version of it.
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={**headers, "ETag": etag})
    try:
        body = await request.app[FRESH_SEGMENTS].get(
            (str(path), stat.st_mtime_ns, stat.st_size), lambda: asyncio.to_thread(path.read_bytes)
        )
    except FileNotFoundError:  # the episode was deleted meanwhile
        raise NotFound("errors.media.no_segment") from None
    response = web.Response(body=body, headers={**headers, "ETag": etag})
    response.last_modified = stat.st_mtime
    return response


def _playlist(request: web.Request, path: Path) -> web.StreamResponse:
    """After the show the file as it is (it no longer changes); live, as `live_playlist` serves it.

    Live, players reload it every segment and revalidate it: a 304 while no segment was added.
    """
    with path.open("rb") as playlist:
        stat = os.fstat(playlist.fileno())
        playlist.seek(max(0, stat.st_size - 32))
        finished = b"#EXT-X-ENDLIST" in playlist.read()  # only ever the last line
    if finished:
        return web.FileResponse(path, headers={"Content-Type": PLAYLIST, "Cache-Control": "public, max-age=3600"})
    delta = request.query.get("_HLS_skip") in ("YES", "v2")  # v2 also skips date ranges: there are none
    version = (stat.st_mtime_ns, stat.st_size)
    headers = {"Cache-Control": "no-cache", "ETag": f'"{version[0]:x}-{version[1]:x}{"-delta" if delta else ""}"'}
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=live_playlist(path, version, delta=delta), content_type=PLAYLIST, headers=headers)


def install(app: web.Application) -> None:
    app[FRESH_SEGMENTS] = Recent(FRESH_SEGMENT_SECONDS, size=FRESH_SEGMENTS_KEPT)
    app.router.add_post("/live/{episode_id}/whip", publish, name="whip")
    app.router.add_delete("/live/{episode_id}/whip/{session}", stop_publishing, name="whip_session")
    app.router.add_post("/live/{episode_id}/whep", watch, name="whep")
    app.router.add_delete("/live/{episode_id}/whep/{session}", leave, name="whep_session")
    app.router.add_post("/live/{episode_id}/relay", relay, name="relay")
    app.router.add_delete("/live/{episode_id}/relay/{session}", stop_relay, name="relay_session")
    app.router.add_get("/live/{episode_id}/hls/{name}", hls_file, name="hls")


_EPISODE: dict[str, Any] = {"episode_id": uuid.UUID}
_SESSION: dict[str, Any] = {**_EPISODE, "session": str}
_ANSWER = {
    "description": "The SDP answer; `Location` is the session to DELETE.",
    "headers": {"Location": {"schema": {"type": "string"}}},
    "content": {SDP: {"schema": {"type": "string"}}},
}
# 400 a malformed or oversized offer, 409 not in the episode's state, 415 not SDP or no usable codec.
_OFFER: dict[str, Any] = {"path": _EPISODE, "request": SDP, "responses": {"201": _ANSWER}}
_CLOSE: dict[str, Any] = {"path": _SESSION, "responses": {"200": {"description": "Closed"}}}
_HLS = {
    "description": "application/vnd.apple.mpegurl or video/mp2t",
    "content": {
        "application/vnd.apple.mpegurl": {"schema": {"type": "string"}},
        "video/mp2t": {"schema": {"type": "string", "format": "binary"}},
    },
}

MEDIA_DOC: dict[str, Any] = {
    "/live/{episode_id}/whip": {
        "post": plain_operation(
            "whip_publish", "The host publishes (WHIP)", secured=True, errors=(400, 409, 415), **_OFFER
        )
    },
    "/live/{episode_id}/whip/{session}": {
        "delete": plain_operation(
            "whip_stop", "The host stops publishing: the show ends", secured=True, errors=(409,), **_CLOSE
        )
    },
    "/live/{episode_id}/whep": {
        "post": plain_operation("whep_watch", "A viewer watches (WHEP)", errors=(400, 409, 415, 429, 503), **_OFFER)
    },
    "/live/{episode_id}/whep/{session}": {"delete": plain_operation("whep_leave", "A viewer leaves", **_CLOSE)},
    "/live/{episode_id}/relay": {
        "post": plain_operation(
            "relay_pull",
            f"Another app process pulls the show from its origin (WHEP between servers, `{RELAY_HEADER}` token)",
            errors=(400, 401, 409, 415),
            **_OFFER,
        )
    },
    "/live/{episode_id}/relay/{session}": {
        "delete": plain_operation("relay_stop", "Another app process stops pulling", errors=(401,), **_CLOSE)
    },
    "/live/{episode_id}/hls/{name}": {
        "get": plain_operation(
            "hls_file",
            "HLS playlist (index.m3u8) or segment (segNNNNN.ts): live, then the replay",
            path={**_EPISODE, "name": str},
            responses={"200": _HLS, "304": {"description": "The live playlist has not changed (`If-None-Match`)"}},
        )
    },
}
MEDIA_DOC["/live/{episode_id}/hls/{name}"]["get"]["parameters"].append(
    {
        "name": "_HLS_skip",
        "in": "query",
        "required": False,
        "description": "`YES` (or `v2`): a playlist delta update, the segments older than CAN-SKIP-UNTIL left out",
        "schema": {"type": "string", "enum": ["YES", "v2"]},
    }
)
