"""HLS serving benchmark: how many hls.js-like viewers of a live show one app process serves.

    scripts/loopback-only .venv/bin/python -m tests.load.hls_serving [--players 0,200,500,1000,2000] [--seconds 20]

One server for the whole run, all on 127.0.0.1 with no STUN server. `shopcast demo` (SQLite, the in-process bus) with
a live show whose host sends the WHEP benchmark's 1280x720 30 fps camera and a silent microphone over WHIP, so
the server packages H.264 + AAC as it does for any show. Each row then starts fresh player processes
(tests/load/hls_players.py: aiohttp clients doing what hls.js does, no decoding) that join over a few seconds,
play a while, and are measured for a window. A thread of this process notes when each segment is listed (it
watches the playlist file the server serves). docs/benchmarks.md says what each column means.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.load.fanout_peers import FPS, HEIGHT, WIDTH
from tests.load.harness import (
    Child,
    RunFailed,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    markdown_table,
    percentile,
    split,
    wait_for_quiet,
)
from tests.load.hls_players import players_main
from tests.load.hls_show import REPO, Server, go_live, host_main, wait_for_segments

PLAYERS_PER_PROCESS = 500
MAX_PLAYER_PROCESSES = 4
WARMUP = 5.0  # seconds between the last join and the window: the joins' first downloads are over
PAUSE = 3.0  # seconds between rows: the last row's connections are closed
DISTURBED = 0.5  # other processes using more than this many cores during a window make it a noisy one
FAVOURED = -5  # the benchmark's own processes' niceness: other work on the shared machine disturbs them less


# --- when each segment is listed -----------------------------------------------------------------


class Listings:
    """When each segment first appeared in the playlist, from the file the server serves (polled every 10 ms)."""

    def __init__(self, playlist: Path) -> None:
        self.listed: dict[int, float] = {}
        self.durations: dict[int, float] = {}
        self._playlist = playlist
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="listings", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        seen = None
        while not self._stop.wait(0.01):
            try:
                stat = self._playlist.stat()
                if (stat.st_mtime_ns, stat.st_size) == seen:
                    continue
                seen = (stat.st_mtime_ns, stat.st_size)
                text = self._playlist.read_bytes()
            except FileNotFoundError:
                continue
            now = time.monotonic()
            for found in re.finditer(rb"#EXTINF:([\d.]+)[^\n]*\nseg(\d+)\.ts$", text, re.M):
                index = int(found.group(2))
                if index not in self.listed:
                    self.listed[index], self.durations[index] = now, float(found.group(1))

    def jitter(self, start: float, end: float) -> float:
        """How unevenly the segments listed in the window were listed: the spread of (listed - media time).

        The packager's share of any stall: a player's margin is one segment, against the pace the
        playlist kept when it joined.
        """
        lags, media = [], 0.0
        for index in sorted(self.listed):
            media += self.durations[index]
            if start <= self.listed[index] < end:
                lags.append(self.listed[index] - media)
        return max(lags) - min(lags) if lags else math.nan

    def end(self) -> None:
        self._stop.set()
        self._thread.join()


# --- one row -------------------------------------------------------------------------------------


@dataclass
class Result:
    players: int
    note: str = ""  # in place of the figures: "failed", "not run"
    why: str = ""
    processes: int = 0
    elapsed: float = math.nan
    reloads: int = 0
    not_modified: int = 0
    reload_bytes: int = 0
    reload_times: list[float] = field(default_factory=list)
    segment_bytes: int = 0
    segment_times: list[float] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)  # listed -> in a player's hands, seconds
    late: int = 0  # segments in hand later than their duration after being listed
    stalled: int = 0  # players with such a segment in the window
    ran_dry: int = 0  # players whose playback (as hls.js plays it) ran dry in the window
    jitter: float = math.nan  # seconds: how unevenly the packager listed the window's segments
    playing: int = 0  # players with a segment in the window
    errors: int = 0
    lateness: list[float] = field(default_factory=list)  # how late the players' timers fired
    server_cpu: float = math.nan  # CPU-seconds per second
    host_cpu: float = math.nan
    players_cpu: float = math.nan
    machine_cpu: float = math.nan
    rss: float = math.nan  # bytes, at the end of the window

    @property
    def other_work(self) -> float:
        return self.machine_cpu - self.server_cpu - self.host_cpu - self.players_cpu

    @property
    def disturbed(self) -> bool:
        return self.other_work > DISTURBED


def rss_bytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def stalls_in(segments: list[tuple[int, float, float, int, float]], start: float, end: float) -> int:
    """How often a player's playback ran dry in the window, had it played as hls.js does.

    Playback starts as the first segment is in and runs in real time; each segment is due when the ones
    before it have played. One that comes later stalls the picture until it is in (the wait then
    carries on: the player is that much further behind).
    """
    stalls = 0
    due = segments[0][2] if segments else 0.0
    for _index, duration, arrived, _size, _took in segments:
        if arrived > due:
            stalls += start <= arrived < end
            due = arrived
        due += duration
    return stalls


def run_row(
    server: Server, episode_id: str, host: Child, listings: Listings, count: int, options: Any, progress: Any
) -> Result:
    result = Result(count)
    context = multiprocessing.get_context("spawn")
    groups: list[Child] = []
    lifetime = options.ramp + WARMUP + options.seconds + 180
    try:
        if count:
            result.processes = min(MAX_PLAYER_PROCESSES, math.ceil(count / PLAYERS_PER_PROCESS))
            groups = [Child(context, "players", players_main, os.getpid(), lifetime) for _ in range(result.processes)]
            for group in groups:
                group.wait_ready()
                os.setpriority(os.PRIO_PROCESS, group.process.pid, FAVOURED)
            url = f"{server.url}/live/{episode_id}/hls"
            first = 0
            for group, share in zip(groups, split(count, len(groups)), strict=True):
                group.call("start", url, first, share, options.ramp)
                first += share
            progress(f"{count} players join over {options.ramp:g} s in {len(groups)} process(es)")
            time.sleep(options.ramp + WARMUP)
            result.playing = sum(group.call("playing") for group in groups)
            if result.playing < count:
                progress(f"only {result.playing} of {count} players have a segment yet")
        progress(f"measuring for {options.seconds:g} s")
        processes = [server.process.pid, host.process.pid] + [g.process.pid for g in groups]
        before = [cpu_seconds(pid) for pid in processes] + [machine_busy_seconds()]
        start = time.monotonic()
        time.sleep(options.seconds)
        end = time.monotonic()
        after = [cpu_seconds(pid) for pid in processes] + [machine_busy_seconds()]
        result.rss = rss_bytes(server.process.pid)
        result.jitter = listings.jitter(start, end)
        result.elapsed = end - start
        used = [(a - b) / result.elapsed for a, b in zip(after, before, strict=True)]
        result.server_cpu, result.host_cpu, result.players_cpu = used[0], used[1], sum(used[2:-1])
        result.machine_cpu = used[-1]
        for group in groups:
            group.send("report", start, end)
        result.playing = 0
        for group in groups:
            tally(result, group.receive("report", 120), listings.listed, start, end)
    except RunFailed as exc:
        result.note, result.why = "failed", str(exc)
    finally:
        for group in groups:
            group.end()
    return result


def tally(result: Result, report: dict[str, Any], listed: dict[int, float], start: float, end: float) -> None:
    """Add one process's report to the row."""
    result.lateness += report["lateness"]
    for segments, reloads, errors in report["players"]:
        result.errors += errors
        result.reloads += len(reloads)
        result.not_modified += sum(status == 304 for _, status, _, _ in reloads)
        result.reload_bytes += sum(size for _, _, size, _ in reloads)
        result.reload_times += [took for *_, took in reloads]
        in_window = [s for s in segments if start <= s[2] < end]
        result.playing += bool(in_window)
        late = 0
        for index, duration, arrived, size, took in in_window:
            result.segment_bytes += size
            result.segment_times.append(took)
            if index in listed:
                delay = arrived - listed[index]
                result.delays.append(delay)
                late += delay > duration
        result.late += late
        result.stalled += late > 0
        result.ran_dry += stalls_in(segments, start, end) > 0


# --- the table -----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def spread(values: list[float]) -> str:
    return f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.99))}"


def share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}" if whole else "-"


Column = tuple[str, Callable[[Result], str]]
MAIN_COLUMNS: list[Column] = [
    ("playlist requests/s (304s, %)", lambda r: f"{r.reloads / r.elapsed:.0f} ({share(r.not_modified, r.reloads)})"),
    ("segment MB/s", lambda r: f"{r.segment_bytes / r.elapsed / 1e6:.1f}"),
    ("app CPU, % of a core", lambda r: f"{r.server_cpu * 100:.0f}"),
    ("listed to in hand p50 / p99, ms", lambda r: spread(r.delays)),
    ("players stalled, %", lambda r: share(r.stalled, r.players)),
    ("app RSS, MB", lambda r: f"{r.rss / 1e6:.0f}"),
]
LOAD_COLUMNS: list[Column] = [
    ("segments in hand later than their duration, %", lambda r: share(r.late, len(r.delays))),
    ("listing jitter, ms", lambda r: ms(r.jitter)),
    ("players whose playback ran dry, %", lambda r: share(r.ran_dry, r.players)),
    ("playlist answer p50 / p99, ms", lambda r: spread(r.reload_times)),
    ("segment answer p50 / p99, ms", lambda r: spread(r.segment_times)),
    ("players with a segment in the window", lambda r: f"{r.playing}"),
    ("errors", lambda r: str(r.errors)),
    ("player processes CPU, % of a core", lambda r: f"{r.players_cpu * 100:.0f} in {r.processes}"),
    ("players' timers late p50 / p99, ms", lambda r: spread(r.lateness)),
    ("host CPU, % of a core", lambda r: f"{r.host_cpu * 100:.0f}"),
    ("other work on the machine, % of a core", lambda r: f"{r.other_work * 100:.0f}"),
]


def table(columns: list[Column], results: list[Result]) -> str:
    rows = [
        [str(r.players) + (" *" if r.disturbed else "")]
        + ([r.note] + ["-"] * (len(columns) - 1) if r.note else [cell(r) for _, cell in columns])
        for r in results
    ]
    return markdown_table(["players"] + [name for name, _ in columns], rows)


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", default="0,200,500,1000,2000", help="players per row (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each row's window (default 20)")
    parser.add_argument("--ramp", type=float, default=5, help="seconds over which a row's players join (default 5)")
    parser.add_argument("--segment", type=float, default=1, help="SHOPCAST_HLS_SEGMENT_SECONDS (default 1)")
    options = parser.parse_args()
    counts = sorted({int(n) for n in options.players.split(",")})
    if not counts or min(counts) < 0 or max(counts) > 4000:
        parser.error("players must be 0-4000")
    if not 5 <= options.seconds <= 60 or not 1 <= options.ramp <= 30 or not 1 <= options.segment <= 6:
        parser.error("seconds must be 5-60, ramp 1-30, segment 1-6")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that end the children
    try:
        run_all(counts, options)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_all(counts: list[int], options: Any) -> None:
    began = time.monotonic()

    def progress(message: str) -> None:
        print(f"  [{time.monotonic() - began:4.0f} s] {message}", file=sys.stderr, flush=True)

    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True)
    print(
        f"HLS serving, {WIDTH}x{HEIGHT} {FPS} fps source, {options.segment:g} s segments, at {commit.stdout.strip()}:"
        f" {machine('aiohttp', 'av')}",
        flush=True,
    )
    wait_for_quiet(progress, patience=60)
    context = multiprocessing.get_context("spawn")
    results: list[Result] = []
    server = host = listings = None
    try:
        progress("starting the server and the host")
        server = Server(options.segment, "hls-serving")
        os.setpriority(os.PRIO_PROCESS, server.process.pid, FAVOURED)
        host = Child(context, "host", host_main, os.getpid(), 60 + len(counts) * (options.seconds + 60))
        host.wait_ready()
        episode_id = go_live(server, host)
        listings = Listings(server.hls(episode_id) / "index.m3u8")
        wait_for_segments(server, episode_id, 3)
        stopped: tuple[str, str] | None = None
        for count in counts:
            if stopped:
                results.append(Result(count, note=stopped[0], why=stopped[1]))
                continue

            def row_progress(message: str, count: int = count) -> None:
                progress(f"{count} players: {message}")

            result = run_row(server, episode_id, host, listings, count, options, row_progress)
            results.append(result)
            print(table(MAIN_COLUMNS, [result]).splitlines()[-1], flush=True)
            if result.note:
                stopped = ("not run", f"the row with {count} players failed")
            time.sleep(PAUSE)
        video = server.hls(episode_id)
        sizes = [p.stat().st_size for p in sorted(video.glob("seg*.ts"))[1:]]
        kbps = sum(sizes) * 8 / 1000 / (len(sizes) * options.segment) if sizes else math.nan
    except RunFailed as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return
    finally:
        if listings is not None:
            listings.end()
        if host is not None:
            host.end()
        if server is not None:
            server.end()
    print()
    print(f"The segments averaged {kbps:.0f} kbit/s.")
    print()
    print(table(MAIN_COLUMNS, results))
    print()
    print(table(LOAD_COLUMNS, results))
    for note, why in dict.fromkeys((r.note, r.why) for r in results if r.note):
        print(f"\n{note}: {why}", end="")
    if any(r.disturbed for r in results):
        print(f"\n\n* other work on the machine used more than {DISTURBED * 100:.0f}% of a core in the window", end="")
    print(f"\n\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
