"""Room fan-out benchmark: chat messages into one episode's room, delivered to thousands of viewers.

    .venv/bin/python -m tests.load.room_fanout [--viewers 500,1000,2000,5000] [--rate 20] [--seconds 15]
                                               [--delivery shopcast|stock|both] [--arrival-seconds S]
                                               [--database sqlite,postgresql]

Every row starts its own processes, all on 127.0.0.1: one app process (`tests/load/room_server.py`:
`shopcast demo` with SQLite, or in the rush PostgreSQL with `--database`, and the in-process bus)
and 1-4 load-client processes holding the viewers on raw WebSockets (`tests/load/room_clients.py`).
Ten of the viewers have guest tokens and send the messages with `chat:send`, in turn, so each stays
under the per-connection event limit.
This parent only times the phases, reads CPU time and memory from /proc and prints the table.
docs/benchmarks.md says what each column means. With `--arrival-seconds` the viewers arrive all
within that time while the chat runs (the rush, tests/load/room_rush.py) instead.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.load.harness import (
    Child,
    RunFailed,
    cpu_seconds,
    die_with_parent,
    free_port,
    machine,
    machine_busy_seconds,
    markdown_table,
    raise_file_limit,
    split,
    wait_for_quiet,
)
from tests.load.room_clients import child_main

SENDERS = 10
VIEWERS_PER_PROCESS = 1250
MAX_PROCESSES = 4
WARMUP_SECONDS = 3.0
DRAIN_SECONDS = 15.0  # after the last message, how long deliveries may still arrive
DISTURBED = 0.3  # cores other work may use during a window before its row is marked
PACKAGES = ("python-socketio", "python-engineio", "aiohttp")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


class Server:
    """The app in its own process, with its log in the run's folder."""

    def __init__(self, delivery: str, folder: Path, settings: dict[str, str] | None = None) -> None:
        """`settings`: more SHOPCAST_* variables for the app (a benchmark's raised limits)."""
        self.port = free_port()
        self.log = folder / "server.log"
        env = {
            **os.environ,
            "SHOPCAST_DATA_DIR": str(folder / "data"),
            "SHOPCAST_SECRET_KEY": secrets.token_urlsafe(48),
            "SHOPCAST_HOST": "127.0.0.1",
        }
        env.pop("SHOPCAST_DATABASE_URL", None)
        env.pop("SHOPCAST_REDIS_URL", None)
        env.update(settings or {})
        command = [sys.executable, "-m", "tests.load.room_server", "--port", str(self.port), "--delivery", delivery]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=log, preexec_fn=die_with_parent
            )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        while b"ready" not in self.process.stdout.readline():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RunFailed(f"the server did not start; see {self.log}")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return json.load(response)

    def request(self, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, bytes]:
        """The status and body of one HTTP request to the app, errors included."""
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def api(self, method: str, path: str, body: Any = None, token: str = "") -> Any:
        """The JSON answer of a request that must succeed."""
        status, answer = self.request(method, path, body, token)
        if status >= 300:
            raise RunFailed(f"{method} {path} got {status}: {answer[:300].decode(errors='replace')}")
        return json.loads(answer) if answer else None

    def episode_id(self) -> str:
        return str(self.get("/api/v1/public/brands/maison-lumiere/episodes")[0]["id"])

    def cut_off(self) -> int:
        """Clients the server disconnected for falling behind (its log says each)."""
        return self.log.read_text(errors="replace").count("fell behind")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Result:
    delivery: str
    viewers: int
    note: str = ""
    window: float = math.nan
    sent: int = 0  # messages sent during the window
    messages: int = 0  # ... of which acked ok
    ack_ms: Counter[int] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    received: int = 0
    latency_ms: Counter[int] = field(default_factory=Counter)
    server_cpu: float = math.nan  # CPU-seconds during the window
    server_cpu_all: float = math.nan  # ... from the window's start until the last delivery or the drain's end
    clients_cpu: float = math.nan
    other_cpu: float = math.nan  # every other process on the machine (this parent, anything else running)
    join_seconds: float = math.nan  # connecting and joining every viewer but the senders
    join_cpu: float = math.nan  # server CPU-seconds meanwhile
    rss_before: int = 0
    rss_after: int = 0
    out_of_order: int = 0
    disconnected: int = 0
    cut_off: int = 0
    written: int = 0
    queued: int = 0
    gc_pauses: list[float] = field(default_factory=list)  # the server's full collections from the window's start

    @property
    def expected(self) -> int:
        return self.sent * self.viewers


def percentile(histogram: Counter[int], q: float) -> float:
    """The q-quantile of values counted per millisecond."""
    total = sum(histogram.values())
    seen = 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= q * total:
            return ms
    return math.nan


def start_load_clients(children: list[Child], server: Server, viewers: int, lifetime: float) -> None:
    """Start the load-client processes for `viewers` viewers of the server's demo episode into
    `children` (so that the caller ends them, however this ends), and wait until each is ready."""
    context = multiprocessing.get_context("spawn")
    episode_id = server.episode_id()
    for _ in range(min(MAX_PROCESSES, math.ceil(viewers / VIEWERS_PER_PROCESS))):
        children.append(Child(context, "load-client", child_main, server.port, episode_id, os.getpid(), lifetime))
    for child in children:
        child.wait_ready(30)


def run_once(delivery: str, viewers: int, rate: float, seconds: float, progress: Any) -> Result:
    result = Result(delivery, viewers)
    lifetime = 300 + viewers / 20 + seconds
    children: list[Child] = []
    server = None
    with tempfile.TemporaryDirectory(prefix="room-fanout-") as folder:
        try:
            server = Server(delivery, Path(folder))
            start_load_clients(children, server, viewers, lifetime)
            processes = len(children)
            shares = split(viewers - SENDERS, processes)
            children[0].call("connect", SENDERS, SENDERS, timeout=60)
            result.rss_before = rss_bytes(server.process.pid)
            progress(f"connecting {viewers} viewers in {processes} process(es)")
            began, cpu_joining = time.monotonic(), cpu_seconds(server.process.pid)
            for child, share in zip(children, shares, strict=True):
                child.send("connect", share, 0)
            for child in children:
                child.receive("connect", 60 + viewers / 10)
            result.join_seconds = time.monotonic() - began
            result.join_cpu = cpu_seconds(server.process.pid) - cpu_joining
            progress(f"{viewers} viewers joined in {result.join_seconds:.0f} s; measuring for {seconds:.0f} s")

            first = round(rate * WARMUP_SECONDS)
            end = first + round(rate * seconds)
            for child in children:
                child.call("count", first, end)
            start = time.monotonic() + 0.5
            children[0].call("send", start, rate, end)
            time.sleep(max(0.0, start + first / rate - time.monotonic()))
            cpu_before = (
                cpu_seconds(server.process.pid),
                sum(cpu_seconds(c.process.pid) for c in children),
                machine_busy_seconds(),
            )
            time.sleep(max(0.0, start + end / rate - time.monotonic()))
            cpu_window = (
                cpu_seconds(server.process.pid),
                sum(cpu_seconds(c.process.pid) for c in children),
                machine_busy_seconds(),
            )
            result.window = (end - first) / rate
            result.rss_after = rss_bytes(server.process.pid)

            deadline = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < deadline:
                if sum(child.call("received") for child in children) >= (end - first) * viewers:
                    break
                time.sleep(0.25)
            cpu_after = cpu_seconds(server.process.pid)
            reports = [child.call("report", timeout=60) for child in children]
            for number, outcome in reports[0]["sent"].items():
                if first <= int(number) < end:
                    result.sent += 1
                    if number in reports[0]["ack_ms"]:
                        result.ack_ms[round(reports[0]["ack_ms"][number])] += 1
                    if outcome == "ok":
                        result.messages += 1
                    else:
                        result.refused[outcome[:120]] += 1

            result.server_cpu = cpu_window[0] - cpu_before[0]
            result.clients_cpu = cpu_window[1] - cpu_before[1]
            result.other_cpu = cpu_window[2] - cpu_before[2] - result.server_cpu - result.clients_cpu
            result.server_cpu_all = cpu_after - cpu_before[0]
            for report in reports:
                result.received += report["received"]
                result.latency_ms.update({int(ms): n for ms, n in report["latency_ms"].items()})
                result.out_of_order += report["out_of_order"]
                result.disconnected += report["disconnected"]
            result.cut_off = server.cut_off()
            counts = server.get("/bench/delivery")
            result.written, result.queued = counts.get("written", 0), counts.get("queued", 0)
            window_end = start + end / rate + DRAIN_SECONDS
            result.gc_pauses = [
                seconds for at, seconds in counts["full_collections"] if start + first / rate <= at <= window_end
            ]
        except (RunFailed, OSError) as exc:
            result.note = f"failed: {exc}"
        finally:
            end_all(children, server)
    return result


def end_all(children: list[Child], server: Server | None) -> None:
    """Stop a run's load clients, then its server, however far it got."""
    for child in children:
        child.end()
    if server is not None:
        server.end()


# --- the table -----------------------------------------------------------------------------------


def figure(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def quantiles(histogram: Counter[int]) -> str:
    return f"{figure(percentile(histogram, 0.5))} / {figure(percentile(histogram, 0.99))}"


Column = tuple[str, Callable[[Result], str]]
MAIN: list[Column] = [
    ("messages/s in", lambda r: figure(r.messages / r.window, 1)),
    ("deliveries/s out", lambda r: figure(r.received / r.window)),
    ("delivered %", lambda r: figure(100 * r.received / max(r.expected, 1), 2)),
    ("send to receive p50 / p99, ms", lambda r: quantiles(r.latency_ms)),
    ("server CPU, % of a core", lambda r: figure(100 * r.server_cpu / r.window)),
    ("deliveries per server CPU-s", lambda r: figure(r.received / r.server_cpu_all)),
    ("server RSS per viewer, KB", lambda r: figure((r.rss_after - r.rss_before) / r.viewers / 1024, 1)),
]
MORE: list[Column] = [
    ("chat:send ack p50 / p99, ms", lambda r: quantiles(r.ack_ms)),
    ("joins/s", lambda r: figure((r.viewers - SENDERS) / r.join_seconds)),
    ("server CPU ms per join", lambda r: figure(1000 * r.join_cpu / (r.viewers - SENDERS), 1)),
    ("load clients CPU, % of a core", lambda r: figure(100 * r.clients_cpu / r.window)),
    ("other work, % of a core", lambda r: figure(100 * r.other_cpu / r.window)),
    (
        "full GC pauses: count, longest ms",
        lambda r: f"{len(r.gc_pauses)}, {figure(1000 * max(r.gc_pauses, default=0))}",
    ),
    ("cut off / out of order", lambda r: f"{r.cut_off} / {r.out_of_order}"),
    ("direct writes / queued", lambda r: f"{r.written:,} / {r.queued:,}" if r.delivery == "shopcast" else "-"),
]


def table(columns: list[Column], results: list[Result]) -> str:
    """A Markdown table, one row per run."""
    rows = []
    for r in results:
        cells = [r.note] + ["-"] * (len(columns) - 1) if r.note else [cell(r) for _, cell in columns]
        disturbed = " *" if r.other_cpu / r.window > DISTURBED else ""
        rows.append([r.delivery + disturbed, f"{r.viewers:,}", *cells])
    return markdown_table(["delivery", "viewers", *(name for name, _ in columns)], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="500,1000,2000,5000", help="viewer counts, comma separated")
    parser.add_argument("--rate", type=float, default=20, help="chat messages per second into the room (default 20)")
    parser.add_argument("--seconds", type=float, default=15, help="length of the measuring window (default 15)")
    parser.add_argument("--delivery", choices=["shopcast", "stock", "both"], default="both")
    parser.add_argument(
        "--arrival-seconds", type=float, default=None, help="the rush: viewers arrive within this many seconds"
    )
    parser.add_argument(
        "--database",
        default="sqlite",
        help="the rush's database: sqlite (a temporary folder), postgresql (a database of the run's own on "
        "127.0.0.1), or both: sqlite,postgresql",
    )
    options = parser.parse_args()
    databases = [name.strip() for name in options.database.split(",")]
    if not databases or any(name not in ("sqlite", "postgresql") for name in databases):
        parser.error("database: sqlite, postgresql or both")
    counts = sorted({int(n) for n in options.viewers.split(",")})
    if min(counts) <= SENDERS or max(counts) > 10_000 or not 1 <= options.seconds <= 120:
        parser.error(f"viewers must be {SENDERS + 1}-10000 and seconds 1-120")
    if not 1 <= options.rate <= SENDERS * 2:
        parser.error(f"rate must be 1-{SENDERS * 2} (each of the {SENDERS} senders stays under the event limit)")
    deliveries = ["shopcast", "stock"] if options.delivery == "both" else [options.delivery]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that end the children
    raise_file_limit()
    try:
        if options.arrival_seconds is not None:
            if not 1 <= options.arrival_seconds <= 120:
                parser.error("arrival-seconds must be 1-120")
            # Imported here: the rush mode builds on this module's server and columns.
            from tests.load import room_rush

            room_rush.run_all(counts, options.rate, options.arrival_seconds, databases)
        else:
            run_all(counts, deliveries, options.rate, options.seconds)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_all(counts: list[int], deliveries: list[str], rate: float, seconds: float) -> None:
    began = time.monotonic()
    print(f"Room fan-out on 127.0.0.1, {rate:g} chat messages/s: {machine(*PACKAGES)}", flush=True)
    results: list[Result] = []
    stopped: dict[str, str] = {}
    patience = 600.0  # seconds, over the whole script, to wait for other work to leave the machine
    for count in counts:
        for delivery in deliveries:
            if delivery in stopped:
                results.append(Result(delivery, count, note=stopped[delivery]))
                continue

            def progress(message: str, delivery: str = delivery, count: int = count) -> None:
                print(f"  [{time.monotonic() - began:5.0f} s] {delivery} x {count}: {message}", file=sys.stderr)

            waited = time.monotonic()
            wait_for_quiet(progress, patience)
            patience = max(0.0, patience - (time.monotonic() - waited))
            result = run_once(delivery, count, rate, seconds, progress)
            results.append(result)
            print(table(MAIN, [result]).splitlines()[-1], flush=True)
            for why, times in result.refused.items():
                print(f"  {times} messages refused: {why}", flush=True)
            if result.note:
                stopped[delivery] = "not run (a smaller run failed)"
            elif result.received < 0.99 * result.expected:
                stopped[delivery] = "not run (saturated at fewer viewers)"
    print()
    print(table(MAIN, results))
    print()
    print(table(MORE, results))
    if any(r.other_cpu / r.window > DISTURBED for r in results):
        print(f"\n* other work on the machine used more than {DISTURBED * 100:.0f}% of a core during the window")
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
