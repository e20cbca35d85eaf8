"""When each moment of the recording happened, for the replay: the pins, the chat and the polls were
recorded in wall-clock time, the video in media time.

While packaging, each host connection marks the playlist time of its first picture with the moment
that picture reached the server (the clock the pins and messages are stamped with). When the show
ends, the finished playlist gets an `#EXT-X-PROGRAM-DATE-TIME` before every segment (RFC 8216,
4.3.2.6), worked out from the last mark at or before the segment's start: a player (and the
watch page) maps any wall-clock moment to media time with the playlist alone. Within one connection
media time follows the host's RTP clock, so the dates drift from the server's clock only as far as
the two clocks do (well under a second an hour); a reconnection (the picture resumes after a gap)
starts a new mark. The marks are kept beside the playlist, one JSON line each, so that a show whose
process died is dated too when another process finishes it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

MARKS = "clock.jsonl"
_EXTINF = re.compile(r"^#EXTINF:([\d.]+)", re.M)
_DATE_TAG = "#EXT-X-PROGRAM-DATE-TIME:"


@dataclass(frozen=True)
class ClockMark:
    """A picture of the recording and when it was live."""

    media: float
    """Its playlist time, in seconds from the start of the recording."""
    at: datetime
    """When it reached the server (UTC)."""


def recorded_seconds(playlist: Path) -> float:
    """How long the playlist already is (0 without one): where a restarted packager's output begins."""
    try:
        return _length(playlist.read_text())
    except FileNotFoundError:
        return 0.0


def replay_seconds(playlist: Path) -> float | None:
    """How long the finished recording is (None while the show is live, or without a recording)."""
    try:
        text = playlist.read_text()
    except FileNotFoundError:
        return None
    return _length(text) if "#EXT-X-ENDLIST" in text else None


def _length(playlist: str) -> float:
    return sum(float(d) for d in _EXTINF.findall(playlist))


def add_mark(folder: Path, mark: ClockMark) -> None:
    """Keep a mark beside the playlist (appended: a few per show, one per host connection)."""
    line = json.dumps({"media": round(mark.media, 6), "at": mark.at.astimezone(UTC).isoformat()})
    with (folder / MARKS).open("a") as marks:
        marks.write(line + "\n")


def read_marks(folder: Path) -> list[ClockMark]:
    try:
        lines = (folder / MARKS).read_text().splitlines()
    except FileNotFoundError:
        return []
    marks = []
    for line in lines:
        try:
            raw = json.loads(line)
            marks.append(ClockMark(float(raw["media"]), datetime.fromisoformat(raw["at"])))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: the others still date the recording
    return sorted(marks, key=lambda m: m.media)


def _date_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dated(playlist: str, marks: list[ClockMark]) -> str:
    """The playlist with each segment's program date time (unchanged without marks, or dated already)."""
    if not marks or _DATE_TAG in playlist:
        return playlist
    out: list[str] = []
    start = 0.0
    duration = 0.0
    for line in playlist.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):  # the segment's file: its tags are all above it
            # The last mark at or before the segment's start (a thousandth of a second of rounding
            # either way), else the first: a picture before any mark started with the first one.
            mark = next((m for m in reversed(marks) if m.media <= start + 0.001), marks[0])
            out.append(_DATE_TAG + _date_text(mark.at + timedelta(seconds=start - mark.media)))
            start += duration
            duration = 0.0
        out.append(line)
    return "".join(f"{line}\n" for line in out)


def date_playlist(folder: Path, playlist: Path) -> None:
    """Date the finished playlist's segments, replacing it whole (players never read half a file)."""
    try:
        text = playlist.read_text()
    except FileNotFoundError:
        return
    marked = dated(text, read_marks(folder))
    if marked == text:
        return
    partial = playlist.with_name(playlist.name + ".tmp")
    partial.write_text(marked)
    partial.replace(playlist)
