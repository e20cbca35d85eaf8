"""Workers benchmark: what `shopcast serve --workers N` gains on this machine, and what passing a long
poll on to another worker costs.

    .venv/bin/python -m tests.load.workers [--workers 1,2] [--seconds 10] [--viewers 1000] [--rounds 200]

Each row starts `shopcast serve --workers N` on 127.0.0.1, on a PostgreSQL database and Redis keys of
the run's own (tests/load/flash_shop.py's), seeds a brand with a live episode through the CLI and the API,
and then, from two load-client processes (`tests/load/workers_clients.py`):

- HTTP: 2 x 16 keep-alive connections ask, for `--seconds` each, for a route without the database
  (`GET /api/v1/public/webrtc`), then for the live episode's public data (`GET /api/v1/public/episodes/{id}`,
  a database read);
- joins: `--viewers` viewers open a WebSocket, connect and join the episode's room, at most 50 at a
  time per process, as a rush of viewers would; they stay until the row ends;
- polls (two workers or more): `--rounds` round trips of an event and its ack on a long-polling session
  whose every request takes a new connection, so either worker; those where a request was passed on
  to the other worker are timed apart.

This parent reads the CPU time of the workers (the supervisor's children), of PostgreSQL and Redis (all of
the machine's), of the load clients and of everything else from /proc, and prints a row per phase.
docs/benchmarks.md says what each column means.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.load.flash_shop import REDIS, App, Usage, postgres_database, redis_prefix, seed, snapshot, usage
from tests.load.harness import (
    Child,
    RunFailed,
    cpu_seconds,
    machine,
    markdown_table,
    split,
    wait_for_quiet,
)
from tests.load.workers_clients import MAX_MS, child_main

CLIENTS = 2
CONNECTIONS = 16  # per client process
PACKAGES = ("aiohttp", "python-socketio", "asyncpg")
DISTURBED = 0.3  # cores other work may use during a phase before its row is marked


class Workers(App):
    """One `shopcast serve --workers N` on one port; its CPU time is its workers'."""

    def start(self, count: int, *, workers: int = 1) -> None:
        super().start(count, workers=workers)
        deadline = time.monotonic() + 60
        while len(self.workers()) < workers:
            if time.monotonic() > deadline:
                raise RunFailed(f"not every worker started; see {self.folder}/server-0.log")
            time.sleep(0.2)
        time.sleep(1)  # every worker listening, not only the first to answer

    def workers(self) -> list[int]:
        """The app processes: the supervisor's children, or with one worker the process itself."""
        pid = self.processes[0].pid
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                return [int(child) for child in children.read().split()] or [pid]
        return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.workers():
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total


def percentile(histogram: list[int], fraction: float) -> float:
    total = sum(histogram)
    if total == 0:
        return float("nan")
    wanted, seen = fraction * total, 0
    for ms, count in enumerate(histogram):
        seen += count
        if seen >= wanted:
            return float(ms)
    return float(MAX_MS)


def spread(histogram: list[int]) -> str:
    return f"{percentile(histogram, 0.5):.0f} / {percentile(histogram, 0.99):.0f}"


def merged(histograms: list[list[int]]) -> list[int]:
    return [sum(counts) for counts in zip(*histograms, strict=True)]


class Row:
    """What one phase of one setup did."""

    def __init__(self, workers: int, phase: str) -> None:
        self.cells = {"workers": str(workers), "phase": phase}

    def measured(self, rate: str, latency: list[int], used: Usage, notes: str = "") -> dict[str, str]:
        self.cells.update(
            {
                "rate": rate,
                "p50 / p99 ms": spread(latency),
                "workers' cores": f"{used.app:.2f}",
                "PostgreSQL + Redis cores": f"{used.services:.2f}",
                "clients' cores": f"{used.clients:.2f}",
                "other work's cores": f"{used.other:.2f}" + (" *" if used.other > DISTURBED else ""),
                "notes": notes,
            }
        )
        return self.cells


def http_phase(
    count: int, phase: str, url: str, args: argparse.Namespace, app: Workers, children: list[Child]
) -> dict[str, str]:
    before = snapshot(app, children)
    for child in children:
        child.send("http", url, CONNECTIONS, args.seconds)
    results = [child.receive("http", args.seconds + 60) for child in children]
    used = usage(before, snapshot(app, children))
    requests = sum(r["count"] for r in results)
    errors = sum(r["errors"] for r in results)
    latency = merged([r["histogram"] for r in results])
    return Row(count, phase).measured(f"{requests / args.seconds:,.0f} req/s", latency, used, f"{errors} errors")


def joins_phase(
    count: int, args: argparse.Namespace, app: Workers, port: int, episode_id: str, children: list[Child]
) -> dict[str, str]:
    before = snapshot(app, children)
    for child, viewers in zip(children, split(args.viewers, len(children)), strict=True):
        child.send("joins", port, episode_id, viewers)
    results = [child.receive("joins", 300) for child in children]
    used = usage(before, snapshot(app, children))
    joined = sum(r["joined"] for r in results)
    seconds = max(r["seconds"] for r in results)
    failures = [why for r in results for why in r["failed"]]
    if failures:
        print(f"  {count} worker(s), joins refused or failed, e.g. {failures[:3]}", file=sys.stderr)
    for child in children:
        child.call("release", timeout=60)
    acks = merged([r["histogram"] for r in results])
    notes = f"all {joined} in after {seconds:.1f} s" + (
        "" if joined == args.viewers else f" ({args.viewers - joined} failed)"
    )
    return Row(count, f"{args.viewers} viewers join").measured(f"{joined / seconds:,.0f} joins/s", acks, used, notes)


def run_row(count: int, args: argparse.Namespace, children: list[Child], progress: Any) -> list[dict[str, str]]:
    name = f"shopcast_bench_workers_{os.getpid()}_{secrets.token_hex(3)}"
    with (
        postgres_database(name) as database,
        redis_prefix(REDIS) as prefix,
        tempfile.TemporaryDirectory(prefix="shopcast-workers-") as folder,
    ):
        env = {
            **os.environ,
            "SHOPCAST_DATABASE_URL": database.replace("postgresql://", "postgresql+asyncpg://"),
            "SHOPCAST_REDIS_URL": REDIS,
            "SHOPCAST_REDIS_PREFIX": prefix,
            "SHOPCAST_DATA_DIR": folder,
            "SHOPCAST_SECRET_KEY": secrets.token_urlsafe(48),
            "SHOPCAST_WEBRTC_HOSTS": "127.0.0.1",
            "SHOPCAST_ICE_SERVERS": "[]",
        }
        app = Workers(env, Path(folder))
        try:
            progress(f"starting {count} worker(s)")
            app.start(1, workers=count)
            shop = seed(app)
            base, port = app.bases[0], app.ports[0]
            rows = []
            progress("HTTP")
            rows.append(http_phase(count, "HTTP, no database", f"{base}/api/v1/public/webrtc", args, app, children))
            episode = f"{base}/api/v1/public/episodes/{shop.episode_id}"
            rows.append(http_phase(count, "HTTP, the episode (database)", episode, args, app, children))
            progress(f"{args.viewers} joins")
            rows.append(joins_phase(count, args, app, port, shop.episode_id, children))
            if count > 1:
                progress(f"{args.rounds} long-poll round trips")
                polled = children[0].call("polls", base, args.rounds, timeout=300)
                for kind in ("direct", "passed on"):
                    row = Row(count, f"long-poll round trip, {kind}")
                    row.cells.update({"rate": f"{sum(polled[kind])} round trips", "p50 / p99 ms": spread(polled[kind])})
                    rows.append(row.cells)
            return rows
        finally:
            app.end()


COLUMNS = [
    "workers",
    "phase",
    "rate",
    "p50 / p99 ms",
    "workers' cores",
    "PostgreSQL + Redis cores",
    "clients' cores",
    "other work's cores",
    "notes",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma separated (default 1,2)")
    parser.add_argument("--seconds", type=float, default=10, help="length of the HTTP phase (default 10)")
    parser.add_argument("--viewers", type=int, default=1000, help="viewers joining (default 1000)")
    parser.add_argument("--rounds", type=int, default=200, help="long-poll round trips (default 200)")
    parser.add_argument("--patience", type=float, default=120, help="seconds to wait for a quiet machine per row")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"Workers on 127.0.0.1: {machine(*PACKAGES)}", flush=True)
    began = time.monotonic()

    def progress(message: str) -> None:
        print(f"  [{time.monotonic() - began:5.0f} s] {message}", file=sys.stderr, flush=True)

    context = multiprocessing.get_context("spawn")
    children = [Child(context, f"client-{n}", child_main, os.getpid(), 3600) for n in range(CLIENTS)]
    rows = []
    try:
        for child in children:
            child.wait_ready()
        for count in counts:
            wait_for_quiet(progress, args.patience)
            rows += run_row(count, args, children, progress)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        for child in children:
            child.end()
    print()
    print(markdown_table(COLUMNS, [[row.get(column, "") for column in COLUMNS] for row in rows]))
    if any(row.get("other work's cores", "").endswith("*") for row in rows):
        print(f"\n* other work on the machine used more than {DISTURBED * 100:.0f}% of a core during the phase")
    print(f"\n{len(rows)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
