"""The replay's segments carry the moment they were live (#EXT-X-PROGRAM-DATE-TIME), so the watch page
can put the pins, the chat and the polls, stamped in wall-clock time, at the right media time."""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import datetime, timedelta
from pathlib import Path

from shopcast.live.hls import HlsPackager, finish_abandoned_playlist
from shopcast.live.hls_clock import ClockMark, add_mark, dated
from tests.conftest import DEFAULT_NOW, SettableClock
from tests.live.test_hls import Camera, event_playlist, segments


def dates_and_durations(playlist: str) -> list[tuple[datetime, float, str]]:
    """(program date time, duration, file) of each segment, in order."""
    found = re.findall(r"#EXTINF:([\d.]+),\n#EXT-X-PROGRAM-DATE-TIME:(\S+)\n(seg\d{5}\.ts)", playlist)
    return [(datetime.fromisoformat(at), float(duration), name) for duration, at, name in found]


async def packaged(packager: HlsPackager, frames: int) -> None:
    async with asyncio.timeout(60):
        while packager.stats.video_frames + packager.stats.dropped < frames:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_each_segment_of_the_replay_says_when_it_was_live(tmp_path: Path) -> None:
    folder, clock = tmp_path / "episode", SettableClock()
    packager = HlsPackager(folder, segment_seconds=1, has_audio=False, clock=clock)
    packager.attach(Camera(30, 3.5, lambda: None), None)
    await packaged(packager, 105)
    await packager.close()

    replay = (folder / "index.m3u8").read_text()
    listed = dates_and_durations(replay)
    # Every segment is dated, to the millisecond, from the moment its first picture arrived.
    assert [name for *_, name in listed] == segments(replay) and len(listed) == 4
    assert listed[0][0] == DEFAULT_NOW
    for (at, duration, _), (next_at, _, _) in itertools.pairwise(listed):
        assert next_at - at == timedelta(seconds=duration)
    assert replay.rstrip().endswith("#EXT-X-ENDLIST")


async def test_after_a_reconnection_the_segments_resume_at_the_new_moment(tmp_path: Path) -> None:
    """The host's connection dropped for 20 s: the picture resumes in media time without a gap, in
    wall-clock time 20 s later, and the segments after it say so."""
    folder, clock = tmp_path / "episode", SettableClock()
    packager = HlsPackager(folder, segment_seconds=1, has_audio=False, clock=clock)
    packager.attach(Camera(30, 2.5, lambda: None), None)
    await packaged(packager, 75)
    clock.advance(seconds=22.5)  # the second connection's first picture, 2.5 s of video later
    packager.attach(Camera(30, 2.5, lambda: None), None)
    await packaged(packager, 150)
    await packager.close()

    listed = dates_and_durations((folder / "index.m3u8").read_text())
    starts = [at - DEFAULT_NOW for at, _, _ in listed]
    # Segments 0-2 started during the first connection (the third is cut on the clock's grid and holds
    # the end of one and the start of the other); the later ones during the second, 20 s later.
    assert starts == [timedelta(seconds=s) for s in (0, 1, 2, 23, 24)]


async def test_a_show_finished_by_another_process_is_dated_from_the_marks_left(tmp_path: Path) -> None:
    """The process packaging the show died: the one that ends it closes the playlist and dates it."""
    folder = tmp_path / "episode"
    folder.mkdir()
    (folder / "index.m3u8").write_text(event_playlist(20))
    # A process restarted mid-show appended after the 16 seconds already there.
    add_mark(folder, ClockMark(0.0, DEFAULT_NOW))
    add_mark(folder, ClockMark(16.0, DEFAULT_NOW + timedelta(minutes=5)))
    (folder / "clock.jsonl").open("a").write('{"media": 17.0, "at": "cut sho')  # the crash cut it short
    assert finish_abandoned_playlist(folder, quiet_for=0)
    listed = dates_and_durations((folder / "index.m3u8").read_text())
    assert [at - DEFAULT_NOW for at, _, _ in listed] == [
        *(timedelta(seconds=s) for s in range(16)),
        *(timedelta(minutes=5, seconds=s) for s in range(4)),
    ]


def test_a_playlist_without_marks_or_dated_already_stays_as_it_is() -> None:
    playlist = event_playlist(3, ended=True)
    assert dated(playlist, []) == playlist
    once = dated(playlist, [ClockMark(0.0, DEFAULT_NOW)])
    assert once.count("#EXT-X-PROGRAM-DATE-TIME:") == 3
    assert dated(once, [ClockMark(0.0, DEFAULT_NOW + timedelta(hours=1))]) == once
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-09-20T10:00:02.000Z\nseg00002.ts\n" in once
