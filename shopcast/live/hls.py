"""HLS for large audiences and for the replay.

The host's stream is decoded once (by aiortc's receiver) and encoded once to H.264 + AAC in a
worker thread, into PyAV's `hls` muxer: segments of `segment_seconds`, a live playlist that keeps
every segment, and `#EXT-X-ENDLIST` when the show ends, so the same playlist is the replay.

How close to live an HLS viewer can be is set here: a player stays a few segments behind the newest
one listed, and a segment is listed once the keyframe that starts the next one is muxed. So segments
are short, a keyframe is forced at every segment boundary by the clock (not every N frames: a browser
host sends fewer frames per second when its CPU or network is busy, which would stretch the
segments), and the playlist is rewritten as each segment closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from shopcast.core.clock import Clock, SystemClock
from shopcast.live.hls_clock import ClockMark, add_mark, date_playlist, recorded_seconds

log = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"
VIDEO_TIME_BASE = Fraction(1, 90000)
AUDIO_TIME_BASE = Fraction(1, 48000)
FRAME_RATE = 30


@dataclass
class PackagerStats:
    video_frames: int = 0
    audio_frames: int = 0
    dropped: int = 0


def finish_abandoned_playlist(folder: Path, *, quiet_for: float) -> bool:
    """Close the playlist of a show whose packager died (a crash): it becomes the replay.

    Only a playlist nobody has written to for `quiet_for` seconds is touched, so a replica that is
    still packaging the show is never raced.
    """
    playlist = folder / PLAYLIST
    try:
        text = playlist.read_text()
        if "#EXT-X-ENDLIST" in text or time.time() - playlist.stat().st_mtime < quiet_for:
            return False
    except FileNotFoundError:
        return False
    # Replaced whole, as the muxer does, so a player never reads half a line.
    partial = playlist.with_name(playlist.name + ".tmp")
    partial.write_text(text + ("" if text.endswith("\n") else "\n") + "#EXT-X-ENDLIST\n")
    partial.replace(playlist)
    date_playlist(folder, playlist)
    return True


SKIP_BOUNDARY_TARGETS = 6  # CAN-SKIP-UNTIL, in target durations: the least the HLS spec allows
_SEGMENT_TAGS = ("#EXTINF:", "#EXT-X-DISCONTINUITY")  # the only ones the muxer writes before a segment


@functools.lru_cache(maxsize=16)
def live_playlist(path: Path, version: tuple[int, int], *, delta: bool) -> bytes:
    """The live playlist as served: it offers delta updates, and is one when asked (`_HLS_skip=YES`).

    The file keeps every segment (it becomes the replay), so it grows all show long while every
    viewer reloads it each segment. A player that has it already gets only the segments of the last
    SKIP_BOUNDARY_TARGETS target durations, the older ones replaced by `#EXT-X-SKIP`. Made once per
    version of the file (`version`: its mtime and size) however many viewers ask.
    """
    lines = path.read_text().splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(_SEGMENT_TAGS)), len(lines))
    header, segments = lines[:first], _segments(lines[first:])
    target = next((i for i, line in enumerate(header) if line.startswith("#EXT-X-TARGETDURATION:")), None)
    if target is None:
        return path.read_bytes()
    boundary = SKIP_BOUNDARY_TARGETS * int(header[target].split(":")[1])
    header.insert(target + 1, f"#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL={boundary:.1f}")
    skipped = 0
    if delta:
        # Segments are kept from the newest back until they cover the boundary; older ones may go.
        covered, skipped = 0.0, len(segments)
        while skipped and covered < boundary:
            skipped -= 1
            covered += next((float(t[8:].split(",")[0]) for t in segments[skipped] if t.startswith("#EXTINF:")), 0)
    if skipped:
        header = ["#EXT-X-VERSION:9" if line.startswith("#EXT-X-VERSION:") else line for line in header]
        header.append(f"#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}")
    return "".join(
        f"{line}\n" for line in header + [line for segment in segments[skipped:] for line in segment]
    ).encode()


def _segments(lines: list[str]) -> list[list[str]]:
    """Each segment's tags and file name; lines after the last file name (none while live) end the last."""
    segments: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line and not line.startswith("#"):
            segments.append(current)
            current = []
    if current and segments:
        segments[-1].extend(current)
    return segments


Arrived = datetime | None
"""When the first picture of a host connection reached the server (None for every other frame)."""


class HlsPackager:
    """One episode's HLS output. Frames arrive on the event loop; encoding happens in a thread.

    The first picture of each host connection is stamped with `clock` as it arrives: hls_clock.py
    dates the replay's segments from those stamps."""

    def __init__(
        self,
        folder: Path,
        *,
        segment_seconds: float,
        has_audio: bool,
        max_queue: int = 240,
        clock: Clock | None = None,
    ) -> None:
        self.folder = folder
        self.stats = PackagerStats()
        self._segment_seconds = segment_seconds
        self._has_audio = has_audio
        self._clock = clock or SystemClock()
        self._connection = 0  # bumps with each host connection: its first picture gets stamped
        self._stamped = 0
        self._queue: queue.Queue[tuple[str, av.VideoFrame | av.AudioFrame, Arrived] | None] = queue.Queue(max_queue)
        self._readers: list[asyncio.Task[None]] = []
        # Timestamps continue across a host's reconnection (a new connection restarts at 0).
        self._offset = {"video": 0, "audio": 0}
        self._last = {"video": -1, "audio": -1}
        self._step = {"video": VIDEO_TIME_BASE.denominator // FRAME_RATE, "audio": 960}
        self._thread = threading.Thread(target=self._run, name=f"hls-{folder.name}", daemon=True)
        self._closed = False
        folder.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    @property
    def has_audio(self) -> bool:
        """Whether the output has sound: fixed by the host's first connection, kept across reconnections."""
        return self._has_audio

    @property
    def playlist(self) -> Path:
        return self.folder / PLAYLIST

    def attach(self, video: MediaStreamTrack, audio: MediaStreamTrack | None) -> None:
        """Read the (new) host connection's decoded tracks."""
        for task in self._readers:
            task.cancel()
        for kind in ("video", "audio"):
            self._offset[kind] = self._last[kind] + self._step[kind]
        self._connection += 1
        self._readers = [asyncio.create_task(self._read("video", video), name=f"hls-read-video-{self.folder.name}")]
        if audio is not None and self._has_audio:
            self._readers.append(
                asyncio.create_task(self._read("audio", audio), name=f"hls-read-audio-{self.folder.name}")
            )

    async def _read(self, kind: str, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if frame.pts is None:
                    continue
                pts = max(frame.pts + self._offset[kind], self._last[kind] + 1)
                self._last[kind] = pts
                frame.pts = pts
                connection = self._connection
                arrived = self._clock.now() if kind == "video" and self._stamped != connection else None
                try:
                    self._queue.put_nowait((kind, frame, arrived))
                except queue.Full:
                    self.stats.dropped += 1  # the encoder is behind: drop rather than grow
                    continue
                if arrived is not None:
                    self._stamped = connection

    async def close(self) -> None:
        """Stop reading and finish the playlist (it becomes the replay)."""
        if self._closed:
            return
        self._closed = True
        for task in self._readers:
            task.cancel()
        await asyncio.to_thread(self._queue.put, None)
        await asyncio.to_thread(self._thread.join)

    # --- the worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        output = None
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                kind, frame, arrived = item
                if output is None:
                    if kind != "video":
                        continue  # the header needs the picture size: start with the first picture
                    output = _Output(self.folder, frame.width, frame.height, self._segment_seconds, self._has_audio)
                if kind == "video":
                    if arrived is not None:
                        add_mark(self.folder, ClockMark(output.media_time(frame.pts), arrived))
                    output.video(frame)
                    self.stats.video_frames += 1
                else:
                    output.audio(frame)
                    self.stats.audio_frames += 1
        except Exception:
            log.exception("HLS packaging of %s failed", self.folder.name)
        finally:
            if output is not None:
                output.close()
                date_playlist(self.folder, self.playlist)


class _Output:
    """The muxer and its two encoders (used by the worker thread only)."""

    def __init__(self, folder: Path, width: int, height: int, segment_seconds: float, has_audio: bool) -> None:
        # After a restart mid-show the muxer appends to the playlist: this output's first picture
        # is at the end of what is there.
        self._starts_at = recorded_seconds(folder / PLAYLIST)
        self._first_pts: int | None = None
        self._container = av.open(
            str(folder / PLAYLIST),
            mode="w",
            format="hls",
            options={
                "hls_time": f"{segment_seconds:g}",
                "hls_list_size": "0",  # keep every segment: the whole show is the replay
                "hls_playlist_type": "event",
                "hls_segment_filename": str(folder / "seg%05d.ts"),
                # After a restart mid-show the recording continues after what is there, with a
                # discontinuity, instead of writing over the show's beginning. temp_file: a segment
                # is written under another name and renamed once complete, so no request ever gets
                # half of one (the playlist is always replaced whole).
                "hls_flags": "independent_segments+append_list+temp_file",
            },
        )
        self._segment_ticks = round(segment_seconds / VIDEO_TIME_BASE)
        self._next_keyframe: int | None = None
        self._width, self._height = width - width % 2, height - height % 2
        self._video = self._container.add_stream("libx264", rate=FRAME_RATE)
        self._video.width, self._video.height, self._video.pix_fmt = self._width, self._height, "yuv420p"
        self._video.codec_context.time_base = VIDEO_TIME_BASE
        # Keyframes only where `video` forces them, at segment boundaries (the GOP cap is never
        # reached): every segment starts with one and plays on its own, and none is cut long.
        # zerolatency: no frames held back for lookahead or B-frames.
        self._video.codec_context.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "g": str(round(FRAME_RATE * segment_seconds * 4)),
            "sc_threshold": "0",
        }
        self._audio = None
        if has_audio:
            self._audio = self._container.add_stream("aac", rate=48000)
            self._audio.layout = "stereo"

    def media_time(self, pts: int) -> float:
        """The playlist time of a picture (the playlist's times are the pictures' from the first one)."""
        if self._first_pts is None:
            self._first_pts = pts
        return self._starts_at + float((pts - self._first_pts) * VIDEO_TIME_BASE)

    def video(self, frame: av.VideoFrame) -> None:
        if self._first_pts is None:
            self._first_pts = frame.pts
        if (frame.width, frame.height) != (self._width, self._height) or frame.format.name != "yuv420p":
            pts = frame.pts
            frame = frame.reformat(width=self._width, height=self._height, format="yuv420p")
            frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        if self._next_keyframe is None or frame.pts >= self._next_keyframe:
            frame.pict_type = av.video.frame.PictureType.I
            # On a fixed grid from the first frame, so a late frame does not shift every later cut.
            start = self._next_keyframe if self._next_keyframe is not None else frame.pts
            self._next_keyframe = start + self._segment_ticks * ((frame.pts - start) // self._segment_ticks + 1)
        else:
            frame.pict_type = av.video.frame.PictureType.NONE
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def audio(self, frame: av.AudioFrame) -> None:
        if self._audio is None:
            return
        frame.time_base = AUDIO_TIME_BASE
        for packet in self._audio.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                for packet in self._audio.encode(None):
                    self._container.mux(packet)
        finally:
            self._container.close()
