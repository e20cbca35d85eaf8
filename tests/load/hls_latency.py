"""HLS latency benchmark: how far behind live an hls.js viewer of the watch page is, glass to glass.

    scripts/loopback-only .venv/bin/python -m tests.load.hls_latency [--segments 2,1] [--joins 3] [--seconds 20]

Every row starts its own processes, all on 127.0.0.1 with no STUN server: the server (`shopcast demo`, exactly as
people run it, with `SHOPCAST_HLS_SEGMENT_SECONDS` set), the host (aiortc sending the WHEP benchmark's stamped
1280x720 30 fps camera, its frame number in the luma plane, and a silent microphone) and a headless Chromium
on the real watch page with `?transport=hls`, so hls.js plays the stream with the page's own settings. The
page reads the stamp of every frame it shows (`requestVideoFrameCallback`, then the top-left blocks drawn on
a canvas); latency is the time that frame is shown minus the time the camera made it (both wall clock, on
one machine). docs/benchmarks.md says what each column means.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS
from tests.load.fanout_peers import FPS, HEIGHT, WIDTH
from tests.load.harness import (
    Child,
    RunFailed,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    markdown_table,
    percentile,
    wait_for_quiet,
)
from tests.load.hls_show import REPO, Server, go_live, host_main, playlist_segments, wait_for_segments

LIFETIME = 600  # seconds a child process may live, whatever happens to the parent
WARMUP = 10.0  # seconds of playing before the window: hls.js settles at its live position

# Runs in the page: reads the stamp of every frame the video element shows (see fanout_peers.stamp_row:
# 16 bits in 16x16 blocks, then the same bits inverted, so a misread is caught rather than believed).
READ_STAMPS = """
() => {
  const video = document.querySelector("[data-testid=video]");
  const canvas = document.createElement("canvas");
  canvas.width = 512;
  canvas.height = 16;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const seen = (window.hlsLatency = { shown: [], unreadable: 0, stalls: 0 });
  performance.setResourceTimingBufferSize(100000);
  video.addEventListener("waiting", () => (seen.stalls += 1));
  function onFrame(_now, frame) {
    if (video.videoWidth >= 512) {
      context.drawImage(video, 0, 0, 512, 16, 0, 0, 512, 16);
      const pixels = context.getImageData(0, 0, 512, 16).data;
      const bits = [];
      for (let block = 0; block < 32; block += 1) {
        let level = 0;
        for (const row of [4, 8, 11]) {
          for (let x = block * 16 + 4; x < block * 16 + 12; x += 1) level += pixels[(row * 512 + x) * 4 + 1];
        }
        bits.push(level > 128 * 24);
      }
      let number = 0;
      let checks = true;
      for (let i = 0; i < 16; i += 1) {
        if (bits[i] === bits[i + 16]) checks = false;
        if (bits[i]) number |= 1 << i;
      }
      if (checks) seen.shown.push([number, performance.timeOrigin + frame.expectedDisplayTime]);
      else seen.unreadable += 1;
    }
    video.requestVideoFrameCallback(onFrame);
  }
  video.requestVideoFrameCallback(onFrame);
}
"""

# Runs in the page: each playlist request hls.js made (304s included), as the browser recorded it.
PLAYLIST_RELOADS = """
() => performance.getEntriesByType("resource")
  .filter((entry) => new URL(entry.name).pathname.endsWith("/index.m3u8"))
  .map((entry) => [new URL(entry.name).searchParams.has("_HLS_skip"), entry.encodedBodySize])
"""


# --- one run -------------------------------------------------------------------------------------


@dataclass
class Result:
    segment_seconds: float
    note: str = ""
    target_duration: str = "-"
    latencies: list[float] = field(default_factory=list)
    join_medians: list[float] = field(default_factory=list)
    shown_fps: float = math.nan
    stalls: int = 0
    unreadable: int = 0
    reloads: list[tuple[bool, int]] = field(default_factory=list)  # (a delta update, body bytes) per reload
    server_cpu: float = math.nan  # CPU-seconds per second
    other_cpu: float = math.nan
    video_kbps: float = math.nan


def run_once(playwright: Any, segment_seconds: float, joins: int, seconds: float, progress: Any) -> Result:
    result = Result(segment_seconds)
    context = multiprocessing.get_context("spawn")
    server = host = browser = None
    try:
        progress("starting the server")
        server = Server(segment_seconds, "hls-latency")
        host = Child(context, "host", host_main, os.getpid(), LIFETIME)
        host.wait_ready()
        episode_id = go_live(server, host)
        progress("waiting for three segments")
        wait_for_segments(server, episode_id, 3)

        browser = playwright.chromium.launch_persistent_context(
            str(server.folder / "chromium"), executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        listed_before = set(playlist_segments(server, episode_id))
        sent: dict[int, float] = {}
        shown: list[tuple[int, float]] = []
        used = [0.0, 0.0, 0.0]  # CPU-seconds in the windows: server, machine, host
        elapsed = 0.0
        for join in range(joins):
            # A viewer joins at whatever point of a segment the moment falls on, as people do.
            page = browser.new_page()
            page.goto(f"{server.url}/watch/{episode_id}?transport=hls")
            page.evaluate(READ_STAMPS)
            page.wait_for_function("() => window.hlsLatency.shown.length > 0", timeout=60_000)
            progress(f"viewer {join + 1} of {joins} plays: {WARMUP:.0f} s to settle, then {seconds:.0f} s measured")
            time.sleep(WARMUP)
            page.evaluate(
                "() => { performance.clearResourceTimings();"
                " Object.assign(window.hlsLatency, { shown: [], unreadable: 0, stalls: 0 }); }"
            )
            before = (cpu_seconds(server.process.pid), machine_busy_seconds(), host.cpu_seconds())
            start = time.monotonic()
            time.sleep(seconds)
            elapsed += time.monotonic() - start
            after = (cpu_seconds(server.process.pid), machine_busy_seconds(), host.cpu_seconds())
            used = [u + a - b for u, a, b in zip(used, after, before, strict=True)]
            seen = page.evaluate("() => window.hlsLatency")
            result.reloads += page.evaluate(PLAYLIST_RELOADS)
            page.close()
            sent = host.call("sent_wall_clock")
            latencies = [at / 1000 - sent[number] for number, at in seen["shown"] if number in sent]
            result.latencies += latencies
            result.join_medians.append(percentile(latencies, 0.5))
            shown += seen["shown"]
            result.stalls += seen["stalls"]
            result.unreadable += seen["unreadable"]

        result.server_cpu = used[0] / elapsed
        result.other_cpu = (used[1] - used[0] - used[2]) / elapsed
        result.shown_fps = len(shown) / elapsed
        _, playlist = server.request("GET", f"/live/{episode_id}/hls/index.m3u8")
        target = re.search(rb"#EXT-X-TARGETDURATION:(\d+)", playlist)
        result.target_duration = target.group(1).decode() if target else "?"
        new = [name for name in playlist_segments(server, episode_id) if name not in listed_before]
        size = sum((server.hls(episode_id) / name).stat().st_size for name in new)
        result.video_kbps = size * 8 / 1000 / max(len(new) * segment_seconds, 1e-9)
        if not result.latencies:
            result.note = "no stamp read"
    except (RunFailed, TimeoutError, OSError) as exc:
        result.note = f"failed: {exc}"
    except Exception as exc:  # Playwright's own errors: the row fails, the others still run
        result.note = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()
        if host is not None:
            host.end()
        if server is not None:
            server.end()
    return result


# --- the table -----------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    header = [
        "segment, s",
        "TARGETDURATION",
        "behind live p50 / p95 / max, s",
        "p50 of each viewer, s",
        "frames shown per s",
        "stalls",
        "server CPU, % of a core",
        "browser and the rest, % of a core",
        "HLS kbit/s",
        "playlist reloads: deltas / all, mean bytes",
        "frames read / unreadable",
    ]
    rows = []
    for r in results:
        if r.note:
            rows.append([f"{r.segment_seconds:g}", r.note] + ["-"] * (len(header) - 2))
            continue
        p50, p95, top = (percentile(r.latencies, q) for q in (0.5, 0.95, 1.0))
        rows.append(
            [
                f"{r.segment_seconds:g}",
                r.target_duration,
                f"{p50:.2f} / {p95:.2f} / {top:.2f}",
                ", ".join(f"{m:.2f}" for m in r.join_medians),
                f"{r.shown_fps:.1f}",
                str(r.stalls),
                f"{r.server_cpu * 100:.0f}",
                f"{r.other_cpu * 100:.0f}",
                f"{r.video_kbps:.0f}",
                f"{sum(d for d, _ in r.reloads)} / {len(r.reloads)}, "
                f"{sum(b for _, b in r.reloads) / max(len(r.reloads), 1):.0f}",
                f"{len(r.latencies)} / {r.unreadable}",
            ]
        )
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", default="2,1", help="segment lengths in seconds, comma separated (default 2,1)")
    parser.add_argument("--joins", type=int, default=3, help="viewers joining one after the other per row (default 3)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each viewer's window (default 20)")
    options = parser.parse_args()
    lengths = [float(s) for s in options.segments.split(",")]
    if not lengths or not all(1 <= s <= 6 for s in lengths) or not 5 <= options.seconds <= 120:
        parser.error("segment lengths must be 1-6 s and the window 5-120 s")
    if not 1 <= options.joins <= 10:
        parser.error("joins must be 1-10")
    if not CHROMIUM.exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that end the children
    try:
        run_all(lengths, options.joins, options.seconds)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_all(lengths: list[float], joins: int, seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    began = time.monotonic()
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True)
    print(
        f"HLS glass-to-glass latency, {WIDTH}x{HEIGHT} {FPS} fps, hls.js on the watch page, at {commit.stdout.strip()}:"
        f" {machine('aiortc', 'av', 'playwright')}",
        flush=True,
    )
    results = []
    with sync_playwright() as playwright:
        for length in lengths:

            def progress(message: str, length: float = length) -> None:
                print(f"  [{time.monotonic() - began:4.0f} s] {length:g} s segments: {message}", file=sys.stderr)

            wait_for_quiet(progress, patience=60)
            results.append(run_once(playwright, length, joins, seconds, progress))
    print()
    print(table(results))
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
