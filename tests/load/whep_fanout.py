"""WHEP fan-out benchmark: one 1280x720 30 fps stream to many viewers, Shopcast's relay beside aiortc's MediaRelay.

    .venv/bin/python -m tests.load.whep_fanout [--viewers 1,10,25,50] [--seconds 12] [--relay shared|naive|both]
    .venv/bin/python -m tests.load.whep_fanout --processes 2 [--viewers 50,100,150] [--redis-url URL] [--sample 15]

Every run starts its own processes, all on 127.0.0.1 with no STUN server: the publisher (a VP8 encoder of a synthetic
picture that carries its frame number in the luma plane), the server (the relay and nothing else, so its CPU
time is the relay's) and 1-4 viewer processes holding many receive-only peer connections. This parent process
only passes SDP between them over pipes, reads their CPU time from /proc and prints the table.

With `--processes 2` there are two servers sharing a Redis (keys under a prefix of the run's own, deleted
afterwards), as two app processes are: the host publishes to the first, the origin; the viewers are spread
over both, and the second pulls the stream from the first once (HTTP and WebRTC, as the app does).
docs/benchmarks.md says what each column means and how it is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import secrets
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shopcast.live.network import offered_candidates
from tests.load.fanout_peers import FPS, HEIGHT, WIDTH, child_main
from tests.load.flash_shop import REDIS as REDIS_URL
from tests.load.flash_shop import redis_prefix
from tests.load.harness import (
    Child,
    RunFailed,
    machine,
    machine_busy_seconds,
    markdown_table,
    percentile,
    split,
    wait_for_quiet,
)

ATTEMPTS = 3  # a disturbed run is measured again, this many times at most
BATCH = 10  # viewers connected per signaling round
CPUS = os.cpu_count() or 1
DISTURBED = 0.3  # other processes using more than this many cores during a window make it a noisy one
MAX_VIEWER_PROCESSES = 4
RETRY_UNTIL = 600  # seconds into the script; later, a disturbed run is kept (and marked) rather than measured again
VIEWERS_PER_PROCESS = 15
SAMPLE = 50  # one viewer in this many (the first, the 51st...) decodes every frame; the others count frames
WARMUP = 3.0  # seconds between the last viewer's first frame and the measuring window...
WARMUP_PER_VIEWER = 0.1  # ...plus this per viewer: the joins' keyframe bursts leave queues to drain


# --- one run -------------------------------------------------------------------------------------


@dataclass
class Result:
    relay: str
    viewers: int
    note: str = ""  # in place of the figures: "failed", "saturated", "not run"
    why: str = ""
    server_cpu: float = math.nan  # CPU-seconds per second, every server process together
    server_cpus: list[float] = field(default_factory=list)  # each server process's
    between: str = "-"  # with two servers: streams the origin sent the other / pulls the other opened
    pulled_delays: list[float] = field(default_factory=list)  # every viewer of the pulling server
    pulled_fps: list[float] = field(default_factory=list)  # each viewer of the pulling server
    publisher_cpu: float = math.nan
    viewers_cpu: float = math.nan
    machine_cpu: float = math.nan  # every process on the machine, ours or not
    server_waited: float = math.nan  # seconds per second the server was ready to run but had no CPU
    udp_drops: int = 0
    lost: list[int] = field(default_factory=lambda: [0, 0])  # RTP packets never seen: in the window, since joining
    keyframes: int = 0  # most keyframes one viewer saw during the window
    viewer_processes: int = 0
    source_fps: float = math.nan
    fps: list[float] = field(default_factory=list)
    late_first_frame: float | None = None
    without_video: int = 0  # viewers that never got a frame (a session closed unconnected, a starved viewer)
    decoded_delays: list[float] = field(default_factory=list)
    all_delays: list[float] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=lambda: [0, 0])  # each: in the window, since joining
    mismatches: list[int] = field(default_factory=lambda: [0, 0])
    incomplete: list[int] = field(default_factory=lambda: [0, 0])  # frames a counting viewer got with a packet missing
    sample: int = 0  # one viewer in `sample` decodes every frame
    decoding: int = 0  # how many did (the late joiner not counted)

    @property
    def other_work(self) -> float:
        """CPU-seconds per second that processes outside the benchmark used during the window."""
        return self.machine_cpu - self.server_cpu - self.publisher_cpu - self.viewers_cpu

    @property
    def disturbed(self) -> bool:
        return self.other_work > DISTURBED

    @property
    def median_fps(self) -> float:
        return statistics.median(self.fps) if self.fps else 0.0


def checked(sdp: str) -> str:
    """Refuse to go on with an SDP offering anything but loopback candidates."""
    addresses = set(offered_candidates(sdp))
    if not addresses or addresses != {"127.0.0.1"}:
        raise RunFailed(f"an SDP offered candidates outside 127.0.0.1: {sorted(addresses)}")
    return sdp


def peer_process(context: Any, role: str, argument: str, lifetime: float) -> Child:
    return Child(context, role, child_main, role, argument, os.getpid(), lifetime)


def cpu_wait_seconds(pid: int) -> float:
    """Time a process's threads were ready to run but waited for a CPU (scheduler statistics)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/schedstat") as stat:
            total += int(stat.read().split()[1])
    return total / 1e9


def udp_drops() -> int:
    """Datagrams the kernel dropped because a socket's receive buffer was full (whole machine)."""
    with open("/proc/net/snmp") as snmp:
        header, values = [line.split() for line in snmp if line.startswith("Udp:")][:2]
    return int(values[header.index("RcvbufErrors")])


def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RunFailed(f"{what} did not happen within {within:.0f} s")
        time.sleep(0.2)


@dataclass(frozen=True)
class SharedRedis:
    """Where two server processes meet: a Redis, and the run's own key prefix in it."""

    url: str
    prefix: str


def server_processes(context: Any, relay: str, servers: int, lifetime: float, redis: SharedRedis | None) -> list[Child]:
    """The relay's processes: one, or two sharing `redis` as two app processes do (a run's own keys)."""
    if servers == 1:
        return [peer_process(context, "server", relay, lifetime)]
    assert redis is not None
    replica = f"replica {redis.url} {redis.prefix} {secrets.token_urlsafe(32)} {uuid.uuid4()}"
    return [peer_process(context, "server", replica, lifetime) for _ in range(servers)]


def run_once(
    relay: str,
    viewers: int,
    seconds: float,
    progress: Callable[[str], None],
    servers: int = 1,
    redis: SharedRedis | None = None,
    sample: int = SAMPLE,
) -> Result:
    context = multiprocessing.get_context("spawn")
    lifetime = WARMUP + WARMUP_PER_VIEWER * viewers + seconds + 240
    result = Result(relay if servers == 1 else f"{relay}, {servers} processes", viewers, sample=sample)
    processes = max(servers, min(MAX_VIEWER_PROCESSES, math.ceil(viewers / VIEWERS_PER_PROCESS)))
    result.viewer_processes = processes
    children: list[Child] = []
    try:
        relays = server_processes(context, relay, servers, lifetime, redis)
        children.extend(relays)
        origin = relays[0]
        publisher = peer_process(context, "publisher", "", lifetime)
        children.append(publisher)
        groups = [peer_process(context, "viewers", "", lifetime) for _ in range(processes)]
        children.extend(groups)
        for child in children:
            child.wait_ready()
        # Viewer processes take turns between the servers. The decoding sample is every `sample`-th viewer in
        # joining order, the first included: spread over the viewer processes, and so over both servers.
        serving = {group: relays[i % servers] for i, group in enumerate(groups)}

        publisher.call("accept", checked(origin.call("publish", checked(publisher.call("offer")))))
        wait_until(lambda: origin.call("frames_in") > FPS, 20, "the host's first second of video")

        progress(f"connecting {viewers} viewers in {processes} process(es), to {servers} server(s)")
        joined = 0
        for group, count in zip(groups, split(viewers, processes), strict=True):
            server = serving[group]
            for batch in range(0, count, BATCH):
                decoding = [(joined + i) % sample == 0 for i in range(min(BATCH, count - batch))]
                joined += len(decoding)
                result.decoding += sum(decoding)
                offers = group.call("offer", decoding)
                answers = server.call("watch", [checked(sdp) for _, sdp in offers], timeout=120)
                group.call("accept", [(i, checked(a)) for (i, _), a in zip(offers, answers, strict=True)])

        def everyone_sees_video() -> bool:
            return all(t is not None for group in groups for t in group.call("first_frames"))

        with contextlib.suppress(RunFailed):  # a viewer that never gets a frame shows up as 0 fps
            wait_until(everyone_sees_video, 30 + viewers / 2, "a first frame at every viewer")
        result.without_video = sum(t is None for group in groups for t in group.call("first_frames"))
        time.sleep(WARMUP + WARMUP_PER_VIEWER * viewers)

        if servers > 1:
            between = [server.call("between_processes") for server in relays]
            result.between = f"{between[0]['relays']} / {sum(b['pulls'] for b in between[1:])}"

        progress(f"measuring for {seconds:.0f} s")
        waits, drops = sum(cpu_wait_seconds(r.process.pid) for r in relays), udp_drops()
        before = [child.cpu_seconds() for child in children] + [machine_busy_seconds()]
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
        after = [child.cpu_seconds() for child in children] + [machine_busy_seconds()]
        result.server_waited = (sum(cpu_wait_seconds(r.process.pid) for r in relays) - waits) / (end - start)
        result.udp_drops = udp_drops() - drops
        used = [(a - b) / (end - start) for a, b in zip(after, before, strict=True)]
        result.server_cpus = used[:servers]
        result.server_cpu, result.publisher_cpu = sum(result.server_cpus), used[servers]
        result.viewers_cpu, result.machine_cpu = sum(used[servers + 1 : -1]), used[-1]

        sent: dict[int, float] = publisher.call("sent")
        result.source_fps = sum(start <= t <= end for t in sent.values()) / (end - start)
        for group in groups:
            for report in group.call("report", start, end, timeout=60):
                result.fps.append(report["frames"] / (end - start))
                arrived = [t - sent[n] for t, n in report["arrived"] if n in sent]
                result.all_delays += arrived
                if serving[group] is not origin:
                    result.pulled_delays += arrived
                    result.pulled_fps.append(result.fps[-1])
                if report["decodes_all"]:
                    result.decoded_delays += [t - sent[n] for t, n in report["decoded"] if n in sent]
                for name in ("unreadable", "mismatches", "lost", "incomplete"):
                    counts = getattr(result, name)
                    counts[0], counts[1] = counts[0] + report[name][0], counts[1] + report[name][1]
                result.keyframes = max(result.keyframes, report["keyframes"])

        # The late joiner joins the last server: with two, the one that pulls the stream.
        late = next(group for group in reversed(groups) if serving[group] is relays[-1])
        progress("a late joiner connects")
        ((index, offer),) = late.call("offer", [True])
        (answer,) = relays[-1].call("watch", [checked(offer)])
        late.call("accept", [(index, checked(answer))])
        with contextlib.suppress(RunFailed):
            wait_until(lambda: late.call("first_frames")[index] is not None, 15, "the late joiner's first frame")
        result.late_first_frame = late.call("first_frames")[index]
    except RunFailed as exc:
        result.note, result.why = "failed", str(exc)
    finally:
        for child in reversed(children):
            child.end()
    return result


# --- the table -----------------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    return "-" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.0f}"


def delays(values: list[float]) -> str:
    return f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.99))}"


Column = tuple[str, Callable[[Result], str]]
MAIN_COLUMNS: list[Column] = [
    ("server CPU, % of a core", lambda r: f"{r.server_cpu * 100:.0f}"),
    ("server CPU-s per viewer per min", lambda r: f"{r.server_cpu * 60 / r.viewers:.2f}"),
    ("server CPU ms per frame sent", lambda r: f"{r.server_cpu * 1000 / max(sum(r.fps), 1e-9):.2f}"),
    ("source fps", lambda r: f"{r.source_fps:.1f}"),
    ("fps per viewer, min / median (every viewer)", lambda r: f"{min(r.fps):.1f} / {r.median_fps:.1f}"),
    ("late joiner's first frame, ms", lambda r: ms(r.late_first_frame)),
    ("decoding sample", lambda r: f"{r.decoding} (1 in {r.sample})"),
    ("delay p50 / p99, ms (decoding sample)", lambda r: delays(r.decoded_delays)),
    ("delay p50 / p99, ms (every viewer)", lambda r: delays(r.all_delays)),
    (f"every viewer at {FPS} fps", lambda r: "yes" if min(r.fps) >= FPS * 0.95 else "no"),
]
PROCESSES_COLUMNS: list[Column] = [
    ("server CPU per process, % of a core", lambda r: " + ".join(f"{c * 100:.0f}" for c in r.server_cpus)),
    ("streams between the processes: sent / pulls", lambda r: r.between),
    ("delay p50 / p99, ms (viewers of the pulling process)", lambda r: delays(r.pulled_delays)),
    ("fps min / median (viewers of the pulling process)", lambda r: fps(r.pulled_fps)),
    (f"viewers under {FPS * 0.95:.1f} fps: origin / pulling", lambda r: short_of_fps(r)),
]


def fps(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f}" if values else "-"


def short_of_fps(result: Result) -> str:
    """How many viewers of each process got less than 95% of the source's frame rate."""
    pulled = sum(f < FPS * 0.95 for f in result.pulled_fps)
    return f"{sum(f < FPS * 0.95 for f in result.fps) - pulled} / {pulled}"


LOAD_COLUMNS: list[Column] = [
    ("publisher CPU, % of a core", lambda r: f"{r.publisher_cpu * 100:.0f}"),
    ("viewer processes CPU, % of a core", lambda r: f"{r.viewers_cpu * 100:.0f} in {r.viewer_processes}"),
    ("whole benchmark, % of the machine", lambda r: f"{(r.machine_cpu - r.other_work) * 100 / CPUS:.0f}"),
    ("other work on the machine, % of a core", lambda r: f"{r.other_work * 100:.0f}"),
    ("server threads waiting for a CPU, % of a core", lambda r: f"{r.server_waited * 100:.0f}"),
    (
        "UDP datagrams dropped (machine) / RTP packets lost / frames incomplete (counting viewers), "
        "in the window (since joining)",
        lambda r: f"{r.udp_drops} / {r.lost[0]} / {r.incomplete[0]} ({r.lost[1]} / {r.incomplete[1]})",
    ),
    ("keyframes a viewer got in the window", lambda r: str(r.keyframes)),
    ("viewers without a frame before the window", lambda r: str(r.without_video)),
    ("delay samples (decoding sample / every viewer)", lambda r: f"{len(r.decoded_delays)} / {len(r.all_delays)}"),
    (
        "stamps unreadable (any viewer) / mismatched (decoding sample), in the window (since joining)",
        lambda r: f"{r.unreadable[0]} / {r.mismatches[0]} ({r.unreadable[1]} / {r.mismatches[1]})",
    ),
]


def table(columns: list[Column], results: list[Result]) -> str:
    header = ["relay", "viewers"] + [name for name, _ in columns]
    rows = [
        [r.relay + (" *" if r.disturbed else ""), str(r.viewers)]
        + ([r.note] + ["-"] * (len(columns) - 1) if r.note else [cell(r) for _, cell in columns])
        for r in results
    ]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="1,10,25,50", help="viewer counts, comma separated (default 1,10,25,50)")
    parser.add_argument("--seconds", type=float, default=12, help="length of each measuring window (default 12)")
    parser.add_argument("--relay", choices=["shared", "naive", "both"], default="both")
    parser.add_argument(
        "--processes",
        type=int,
        choices=[1, 2],
        default=1,
        help="server processes: 2 share a Redis as two app processes do, the second pulling from the first "
        "(Shopcast's relay only)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=SAMPLE,
        help=f"one viewer in this many decodes every frame, the others count frames by RTP (default {SAMPLE})",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=180,
        help="seconds, over the whole run, to wait for other work to leave the machine (default 180)",
    )
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"Redis for --processes 2 (default {REDIS_URL})")
    options = parser.parse_args()
    counts = sorted({int(n) for n in options.viewers.split(",")})
    if not counts or min(counts) < 1 or max(counts) > 200 or not 1 <= options.seconds <= 120:
        parser.error("viewers must be 1-200 and seconds 1-120")
    if options.sample < 1:
        parser.error("--sample must be at least 1")
    relays = ["shared", "naive"] if options.relay == "both" else [options.relay]
    if options.processes > 1:
        relays = ["shared"]  # the naive relay has no second process to pull from
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that end the children

    try:
        if options.processes == 1:
            run_all(counts, relays, options.seconds, options.sample, options.patience)
        else:
            with redis_prefix(options.redis_url) as prefix:
                shared = SharedRedis(options.redis_url, prefix)
                run_all(counts, relays, options.seconds, options.sample, options.patience, options.processes, shared)
    except KeyboardInterrupt:  # the runs' finally blocks have ended every child by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_all(
    counts: list[int],
    relays: list[str],
    seconds: float,
    sample: int,
    patience: float,
    servers: int = 1,
    redis: SharedRedis | None = None,
) -> None:
    began = time.monotonic()
    stream = f"one {WIDTH}x{HEIGHT} {FPS} fps VP8 stream"
    where = "on 127.0.0.1" if servers == 1 else f"through {servers} server processes on 127.0.0.1"
    print(f"WHEP fan-out of {stream} {where}: {machine('aiortc', 'av', 'aioice')}", flush=True)
    results: list[Result] = []
    stopped: dict[str, tuple[str, str]] = {}  # relay -> note and reason for its larger counts
    for count in counts:
        for relay in relays:
            if relay in stopped:
                note, why = stopped[relay]
                results.append(Result(relay, count, note=note, why=why))
                continue

            def progress(message: str, relay: str = relay, count: int = count) -> None:
                print(
                    f"  [{time.monotonic() - began:5.0f} s] {relay} x {count}: {message}", file=sys.stderr, flush=True
                )

            for attempt in range(ATTEMPTS):
                waited = time.monotonic()
                wait_for_quiet(progress, patience)
                patience = max(0.0, patience - (time.monotonic() - waited))
                result = run_once(relay, count, seconds, progress, servers, redis, sample)
                if result.note or not result.disturbed or time.monotonic() - began > RETRY_UNTIL:
                    break
                if attempt < ATTEMPTS - 1:
                    progress(f"other work took {result.other_work * 100:.0f}% of a core meanwhile: measuring again")
                    # The disturbed attempt's figures still say what the benchmark's own processes cost.
                    print(table(MAIN_COLUMNS + LOAD_COLUMNS, [result]), file=sys.stderr, flush=True)
            results.append(result)
            print(table(MAIN_COLUMNS, [result]).splitlines()[-1], flush=True)
            if result.note:
                stopped[relay] = ("not run", f"the run with {count} viewers failed")
            elif result.median_fps < FPS / 2:
                why = f"at {count} viewers the median viewer got {result.median_fps:.1f} fps, under half the source's"
                stopped[relay] = ("saturated", why)
    print()
    print(table(MAIN_COLUMNS, results))
    print()
    print(table(LOAD_COLUMNS, results))
    if servers > 1:
        print()
        print(table(PROCESSES_COLUMNS, results))
    for relay, note, why in dict.fromkeys((r.relay, r.note, r.why) for r in results if r.note):
        print(f"\n{relay}, {note}: {why}", end="")
    print()
    if any(r.disturbed for r in results):
        print(f"\n* other work on the machine used more than {DISTURBED * 100:.0f}% of a core during the window")
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
