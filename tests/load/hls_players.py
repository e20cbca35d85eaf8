"""The player processes of the HLS serving benchmark: many hls.js-like players of one live playlist.

Used by tests/load/hls_serving.py, which starts them and prints the table. A player does over HTTP what
hls.js does for a live stream on the watch page, without decoding anything:

- it loads the whole playlist once, starts two target durations behind its end (the watch page's
  `liveSyncDurationCount`) and fetches the segments from there, one after the other, each once;
- it reloads the playlist as a delta update (`_HLS_skip=YES`) with `If-None-Match`, one target
  duration after the last reload that brought a new segment, half of one after a reload that did
  not (RFC 8216 6.3.4, which hls.js follows); a 304 is "no new segment";
- it keeps its own connections (two, like a browser's playlist and segment loaders), alive between
  requests.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import aiohttp

from tests.load.harness import child_process, run_commands

SYNC_TARGETS = 2  # the watch page's liveSyncDurationCount: how many target durations behind the end it starts
TIMEOUT = aiohttp.ClientTimeout(total=15)
_SEGMENT = re.compile(rb"#EXTINF:([\d.]+)[^\n]*\n(seg(\d+)\.ts)")
_TARGET = re.compile(rb"#EXT-X-TARGETDURATION:(\d+)")


@dataclass
class Segment:
    index: int
    duration: float
    arrived: float  # time.monotonic() when the whole body was in
    size: int
    took: float  # seconds from sending the request to the whole body


@dataclass
class Player:
    """What one player saw; the process's report reads it."""

    number: int
    segments: list[Segment] = field(default_factory=list)
    reloads: list[tuple[float, int, int, float]] = field(default_factory=list)  # (sent, status, bytes, took)
    errors: int = 0


class Players:
    """One process's players (the parent's commands, see harness.run_commands)."""

    def __init__(self) -> None:
        self._players: list[Player] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._lateness: list[tuple[float, float]] = []  # (when, how late a player's timer fired)

    async def start(self, url: str, first: int, count: int, ramp: float) -> None:
        """Start `count` players of the playlist at `url`, joining at random moments over `ramp` seconds."""
        dice = random.Random(first)
        now = time.monotonic()
        for number in range(first, first + count):
            player = Player(number)
            self._players.append(player)
            task = asyncio.create_task(self._play(player, url, now + dice.uniform(0, ramp)))
            self._tasks.append(task)

    async def playing(self) -> int:
        """How many players have their first segment."""
        return sum(bool(p.segments) for p in self._players)

    async def report(self, start: float, end: float) -> dict[str, object]:
        """What the players saw in the window: their segments, their reloads, how late their timers were."""
        return {
            "players": [
                (
                    [(s.index, s.duration, s.arrived, s.size, s.took) for s in p.segments],
                    [r for r in p.reloads if start <= r[0] < end],
                    p.errors,
                )
                for p in self._players
            ],
            "lateness": [late for when, late in self._lateness if start <= when < end],
        }

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _sleep_until(self, moment: float) -> None:
        wait = moment - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        now = time.monotonic()
        self._lateness.append((now, now - moment))

    async def _play(self, player: Player, url: str, joins_at: float) -> None:
        await self._sleep_until(joins_at)
        connector = aiohttp.TCPConnector(limit=2, force_close=False)
        async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT, auto_decompress=False) as http:
            wanted: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
            fetching = asyncio.create_task(self._fetch_segments(player, http, url, wanted))
            try:
                await self._reload(player, http, url, wanted)
            finally:
                fetching.cancel()

    async def _reload(
        self, player: Player, http: aiohttp.ClientSession, url: str, wanted: asyncio.Queue[tuple[int, float]]
    ) -> None:
        etag: str | None = None
        newest = -1  # the newest segment asked for
        target = 1.0
        playlist = f"{url}/index.m3u8"
        while True:
            sent = time.monotonic()
            headers = {"If-None-Match": etag} if etag else {}
            new = False
            try:
                async with http.get(playlist, headers=headers, params=None if newest < 0 else _DELTA) as response:
                    body = await response.read()
                    player.reloads.append((sent, response.status, len(body), time.monotonic() - sent))
                    if response.status == 200:
                        etag = response.headers.get("ETag")
                        if found := _TARGET.search(body):
                            target = float(found.group(1))
                        listed = [(int(m[3]), float(m[1])) for m in _SEGMENT.finditer(body)]
                        if newest < 0 and listed:
                            newest = _start(listed, SYNC_TARGETS * target) - 1
                        for index, duration in listed:
                            if index > newest:
                                wanted.put_nowait((index, duration))
                                newest, new = index, True
                    elif response.status != 304:
                        player.errors += 1
            except (aiohttp.ClientError, TimeoutError):
                player.errors += 1
            await self._sleep_until(sent + (target if new else target / 2))

    async def _fetch_segments(
        self, player: Player, http: aiohttp.ClientSession, url: str, wanted: asyncio.Queue[tuple[int, float]]
    ) -> None:
        while True:
            index, duration = await wanted.get()
            for _attempt in range(3):
                sent = time.monotonic()
                try:
                    async with http.get(f"{url}/seg{index:05d}.ts") as response:
                        size = 0
                        async for chunk in response.content.iter_any():
                            size += len(chunk)
                        if response.status == 200:
                            now = time.monotonic()
                            player.segments.append(Segment(index, duration, now, size, now - sent))
                            break
                        player.errors += 1
                except (aiohttp.ClientError, TimeoutError):
                    player.errors += 1


_DELTA = {"_HLS_skip": "YES"}


def _start(listed: list[tuple[int, float]], behind: float) -> int:
    """The segment a player starts with: the one holding the moment `behind` seconds before the end."""
    left = behind
    for index, duration in reversed(listed):
        left -= duration
        if left <= 0:
            return index
    return listed[0][0]


def players_main(conn: Connection, parent: int, lifetime: float) -> None:
    child_process(parent, lifetime)
    try:
        asyncio.run(run_commands(conn, Players()))
    finally:
        sys.stdout.flush()
