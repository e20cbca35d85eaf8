"""One episode's video in one app process: where it comes from (the host, or a pull from the origin) and
who gets it (viewers, and other processes pulling it from here)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from shopcast.live.hls import HlsPackager
from shopcast.live.relay import Fanout
from shopcast.live.sessions import Publisher
from shopcast.live.upstream import Upstream

# A viewer at most this far behind live (0.5 s of video at 30 fps, 1 s of 20 ms audio frames):
# beyond it they skip to the next keyframe rather than drift seconds behind.
MAX_QUEUE = {"video": 15, "audio": 50}


@dataclass
class Broadcast:
    """One episode this process carries: its host's session (or its pull from the origin) and its viewers'."""

    episode_id: uuid.UUID
    fanouts: dict[str, Fanout]
    publisher: Publisher | None = None
    live: bool = False  # the host's connection came up here and the episode went live
    codecs: dict[str, RTCRtpCodecCapability] = field(default_factory=dict)
    viewers: dict[str, RTCPeerConnection] = field(default_factory=dict)
    relays: dict[str, RTCPeerConnection] = field(default_factory=dict)  # other processes pulling from here
    arriving: int = 0  # viewers whose offer is being answered
    grace_timer: asyncio.TimerHandle | None = None
    linger_timer: asyncio.TimerHandle | None = None
    follower: asyncio.Task[None] | None = None
    packager: HlsPackager | None = None
    recording_from: Publisher | None = None  # the host connection the packager reads
    upstream: Upstream | None = None  # the host publishes to another process: pulled from there

    @property
    def is_origin(self) -> bool:
        """The host's connection came up in this process, and it still carries the show (the host may be
        reconnecting): other processes pull from here."""
        return self.live and self.upstream is None

    @property
    def idle(self) -> bool:
        """A pulled show nobody here watches any more."""
        return self.upstream is not None and self.publisher is None and not self.viewers and not self.arriving

    @property
    def connected_viewers(self) -> int:
        """Viewers watching: a session still connecting (or never) watches nothing."""
        return sum(pc.connectionState == "connected" for pc in self.viewers.values())

    def stats(self) -> BroadcastStats:
        fanouts = self.fanouts
        upstream = self.upstream
        return BroadcastStats(
            on_air=self.live or (upstream is not None and upstream.connected),
            viewers=self.connected_viewers,
            publisher_connected=self.publisher is not None and self.publisher.connected,
            frames_in={k: f.stats.frames_in for k, f in fanouts.items()},
            packets_created={k: f.stats.packets_created for k, f in fanouts.items()},
            deliveries={k: f.stats.deliveries for k, f in fanouts.items()},
            keyframes_asked_of_publisher=fanouts["video"].stats.keyframes_asked_of_publisher,
            keyframe_requests=fanouts["video"].stats.keyframe_requests,
            encoders=0,
            relays=sum(pc.connectionState == "connected" for pc in self.relays.values()),
            pulling_from=upstream.origin.replica if upstream is not None and upstream.origin is not None else None,
            pulls=upstream.pulls if upstream is not None else 0,
            pull_candidates=upstream.candidates() if upstream is not None else [],
        )


@dataclass(frozen=True)
class BroadcastStats:
    """What a broadcast is doing in this process, for health pages, benchmarks and tests."""

    on_air: bool
    viewers: int  # connected ones: a session still connecting (or never) watches nothing
    publisher_connected: bool
    frames_in: dict[str, int]
    packets_created: dict[str, int]
    deliveries: dict[str, int]
    keyframes_asked_of_publisher: int
    keyframe_requests: int
    encoders: int  # frames encoded for viewers: none, the host's packets are forwarded
    relays: int = 0  # other processes pulling the show from this one (connected)
    pulling_from: str | None = None  # the process this one pulls the show from, if the host is there
    pulls: int = 0  # sessions this process opened at an origin for the show (1 unless a pull broke)
    pull_candidates: list[str] = field(default_factory=list)  # ICE addresses of the current pull, both ends
