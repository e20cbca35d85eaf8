"""Each show's HLS output (live, then the replay), written by one process at a time.

The packager is made when the host first connects to this process and kept across their
reconnections, each new connection appended to the same playlist. When the host moves to another
process, that process starts writing only once this one has closed its muxer and let go of the
recording (live/origins.py), so two muxers never write one playlist on the shared storage.
"""

from __future__ import annotations

from pathlib import Path

from shopcast.core.clock import Clock
from shopcast.live.broadcast import Broadcast
from shopcast.live.hls import HlsPackager
from shopcast.live.origins import Origins


class Recordings:
    def __init__(self, root: Path, *, origins: Origins, segment_seconds: float, clock: Clock | None) -> None:
        self.root = root
        self._origins = origins
        self._segment_seconds = segment_seconds
        self._clock = clock

    async def follow(self, broadcast: Broadcast) -> None:
        """Record the host's current connection, if it is up (the packager made on the first one)."""
        publisher = broadcast.publisher
        if publisher is None or not publisher.connected or "video" not in publisher.tracks:
            return
        if broadcast.packager is None:
            if not await self._origins.hold_recording(broadcast.episode_id):
                return  # the previous origin is still closing its muxer: tried again at the next renewal
            broadcast.packager = HlsPackager(
                self.root / str(broadcast.episode_id),
                segment_seconds=self._segment_seconds,
                has_audio=publisher.has_audio,
                clock=self._clock,
            )
        elif broadcast.recording_from is publisher:
            return
        broadcast.recording_from = publisher
        broadcast.packager.attach(publisher.tracks["video"], publisher.tracks.get("audio"))

    async def keep(self, broadcast: Broadcast) -> None:
        """Renew the recording's lease, or start recording if another process held it until now."""
        if broadcast.packager is None:
            await self.follow(broadcast)
        else:
            await self._origins.hold_recording(broadcast.episode_id)

    async def stop(self, broadcast: Broadcast) -> None:
        """Finish the playlist (the replay, unless the show goes on elsewhere) and let go of it."""
        packager, broadcast.packager, broadcast.recording_from = broadcast.packager, None, None
        if packager is not None:
            await packager.close()
            await self._origins.release_recording(broadcast.episode_id)
