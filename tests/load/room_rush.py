"""The room fan-out benchmark's rush mode: the whole audience arrives within a few seconds, as at
19:00 for a weekly show, while the room's chat runs.

    .venv/bin/python -m tests.load.room_fanout --arrival-seconds 10 [--viewers 5000] [--rate 20]
                                               [--database sqlite,postgresql]

The same processes as the steady mode (tests/load/room_fanout.py): one app process, 1-4 load-client
processes. The ten senders join first and the chat starts; three seconds later the viewers arrive,
evenly spread over `--arrival-seconds` (each opens its connection at its moment, however many are
still on their way) and join. The run ends once every viewer is in (or failed); docs/benchmarks.md
says what each column means.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.load.flash_shop import postgres_database
from tests.load.harness import (
    Child,
    RunFailed,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    markdown_table,
    wait_for_quiet,
)
from tests.load.room_clients import child_main
from tests.load.room_fanout import (
    PACKAGES,
    SENDERS,
    WARMUP_SECONDS,
    Server,
    end_all,
    figure,
    quantiles,
    rss_bytes,
    start_load_clients,
)

SETTLE_SECONDS = 3.0  # after the last viewer is in, how long deliveries of the rush's messages may still arrive
PROBES = 20  # viewers in their own, otherwise idle process: delivery as a viewer on their own device sees it


@dataclass
class Rush:
    viewers: int
    arrival: float
    database: str
    note: str = ""
    all_in: float = math.nan  # seconds from the first arrival until the last viewer is in
    joined: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    busy: Counter[int] = field(default_factory=Counter)  # refusals as busy before getting in -> viewers
    join_ms: Counter[int] = field(default_factory=Counter)  # `join` sent -> its ack
    in_ms: Counter[int] = field(default_factory=Counter)  # arrival (connection opened) -> join ack
    delivery_ms: Counter[int] = field(default_factory=Counter)  # the rush's chat messages, send -> receive
    probe_ms: Counter[int] = field(default_factory=Counter)  # ... at the probes only
    deliveries: int = 0
    sent: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # the rush's messages not acked ok, by why
    ack_ms: Counter[int] = field(default_factory=Counter)  # the rush's `chat:send` acks
    server_cpu: float = math.nan  # CPU-seconds from the first arrival until the last viewer is in
    clients_cpu: float = math.nan  # ... the load clients'
    other_cpu: float = math.nan  # ... every other process on the machine
    rss_per_viewer: float = math.nan
    gc_pauses: list[float] = field(default_factory=list)
    out_of_order: int = 0
    cut_off: int = 0


def run_rush(viewers: int, rate: float, arrival: float, database: str, progress: Any) -> Rush:
    result = Rush(viewers, arrival, database)
    lifetime = 300 + viewers / 10 + arrival
    children: list[Child] = []
    probes: list[Child] = []
    server = None
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="room-rush-"))
        try:
            settings = {}
            if database == "postgresql":
                url = stack.enter_context(postgres_database(f"shopcast_bench_{os.getpid()}_rush_{viewers}"))
                settings["SHOPCAST_DATABASE_URL"] = url.replace("postgresql://", "postgresql+asyncpg://")
            server = Server("shopcast", Path(folder), settings)
            start_load_clients(children, server, viewers, lifetime)
            processes = len(children)
            children[0].call("connect", SENDERS, SENDERS, timeout=60)
            probe = start_probe(server, lifetime)
            probes.append(probe)
            rss_before = rss_bytes(server.process.pid)
            start = time.monotonic() + 0.5
            rush_start = start + WARMUP_SECONDS
            planned = math.ceil(rate * (WARMUP_SECONDS + lifetime))
            for child in [*children, probe]:
                child.call("count", 0, planned, True)  # all of them; the rush's are picked out by number afterwards
            children[0].call("send", start, rate, planned)
            arriving = viewers - SENDERS
            times = [rush_start + i * arrival / arriving for i in range(arriving)]
            for index, child in enumerate(children):  # interleaved: every process arrives all along
                share = times[index::processes]
                child.send("arrive", len(share), share)
            progress(f"{arriving} viewers arriving over {arrival:g} s in {processes} process(es)")
            time.sleep(max(0.0, rush_start - time.monotonic()))
            cpu_before = cpu_seconds(server.process.pid)
            clients_before = sum(child.cpu_seconds() for child in children)
            machine_before = machine_busy_seconds()
            arrived = [child.receive("arrive", 180 + arrival + viewers / 10) for child in children]
            last_in = max(a["last_in"] for a in arrived)
            result.all_in = last_in - rush_start
            result.server_cpu = cpu_seconds(server.process.pid) - cpu_before
            result.clients_cpu = sum(child.cpu_seconds() for child in children) - clients_before
            result.other_cpu = machine_busy_seconds() - machine_before - result.server_cpu - result.clients_cpu
            result.rss_per_viewer = (rss_bytes(server.process.pid) - rss_before) / viewers / 1024
            for a in arrived:
                result.join_ms.update({int(ms): n for ms, n in a["join_ms"].items()})
                result.in_ms.update({int(ms): n for ms, n in a["in_ms"].items()})
                result.failed.update(a["failed"])
                result.busy.update({int(times): n for times, n in a["busy"].items()})
            result.joined = sum(result.in_ms.values())
            progress(f"{result.joined} viewers in after {result.all_in:.1f} s")

            # The rush's messages: those sent from the first arrival until the last viewer was in.
            first, end = math.ceil(rate * WARMUP_SECONDS), math.ceil(rate * (last_in - start))
            children[0].call("send_until", end + 1)
            time.sleep(SETTLE_SECONDS)
            reports = [child.call("report", timeout=60) for child in children]
            for number, latencies in probe.call("report", timeout=60)["by_number"].items():
                if first <= int(number) < end:
                    result.probe_ms.update({int(ms): n for ms, n in latencies.items()})
            for number, outcome in reports[0]["sent"].items():
                if first <= int(number) < end:
                    result.sent += 1
                    if outcome != "ok":  # the ack's packet (`43<ack id>[…]`) or "no ack": counted by its words
                        result.refused[outcome.partition("[")[2][:160] or outcome] += 1
                    if number in reports[0]["ack_ms"]:
                        result.ack_ms[round(reports[0]["ack_ms"][number])] += 1
            for report in reports:
                for number, latencies in report["by_number"].items():
                    if first <= int(number) < end:
                        result.delivery_ms.update({int(ms): n for ms, n in latencies.items()})
                result.out_of_order += report["out_of_order"]
            result.deliveries = sum(result.delivery_ms.values())
            result.cut_off = server.cut_off()
            pauses = server.get("/bench/delivery")["full_collections"]
            result.gc_pauses = [seconds for at, seconds in pauses if rush_start <= at <= last_in]
        except (RunFailed, OSError) as exc:
            result.note = f"failed: {exc}"
        finally:
            end_all([*probes, *children], server)
    return result


def start_probe(server: Server, lifetime: float) -> Child:
    """The probes' process, its viewers in the room before the rush. The load clients share the
    machine's cores with the server and take each delivery when their loop gets to it, so their
    latencies add their own queues to the server's; the probes' process has nothing else to do."""
    probe = Child(
        multiprocessing.get_context("spawn"),
        "probe",
        child_main,
        server.port,
        server.episode_id(),
        os.getpid(),
        lifetime,
    )
    probe.wait_ready(30)
    probe.call("connect", PROBES, 0, timeout=60)
    return probe


def table(results: list[Rush]) -> str:
    header = [
        "database",
        "viewers",
        "arrival, s",
        "joins/s",
        "all in after, s",
        "join ack p50 / p99, ms",
        "arrival to in p50 / p99, ms",
        "delivery during the rush p50 / p99, ms",
        "... to the probes p50 / p99, ms",
        "chat:send ack p50 / p99, ms",
        "server CPU ms per join",
        "server / load clients / other CPU, % of a core",
        "full GC pauses: count, longest ms",
        "failed / cut off / out of order",
    ]
    rows = []
    for r in results:
        if r.note:
            rows.append([r.database, f"{r.viewers:,}", f"{r.arrival:g}", r.note, *["-"] * (len(header) - 4)])
            continue
        rows.append(
            [
                r.database,
                f"{r.viewers:,}",
                f"{r.arrival:g}",
                figure(r.joined / r.all_in),
                figure(r.all_in, 1),
                quantiles(r.join_ms),
                quantiles(r.in_ms),
                quantiles(r.delivery_ms),
                quantiles(r.probe_ms),
                quantiles(r.ack_ms),
                figure(1000 * r.server_cpu / max(r.joined, 1), 2),
                " / ".join(figure(100 * cpu / r.all_in) for cpu in (r.server_cpu, r.clients_cpu, r.other_cpu)),
                f"{len(r.gc_pauses)}, {figure(1000 * max(r.gc_pauses, default=0))}",
                f"{sum(r.failed.values())} / {r.cut_off} / {r.out_of_order}",
            ]
        )
    return markdown_table(header, rows)


def run_all(counts: list[int], rate: float, arrival: float, databases: list[str]) -> None:
    began = time.monotonic()
    print(f"Room fan-out rush on 127.0.0.1, {rate:g} chat messages/s: {machine(*PACKAGES)}", flush=True)
    results = []
    for database, count in itertools.product(databases, counts):

        def progress(message: str, count: int = count, database: str = database) -> None:
            print(f"  [{time.monotonic() - began:5.0f} s] rush x {count} on {database}: {message}", flush=True)

        wait_for_quiet(progress)
        result = run_rush(count, rate, arrival, database, progress)
        results.append(result)
        for why, times in result.failed.items():
            print(f"  {times} viewers failed to join: {why}", flush=True)
        if any(result.busy.keys() - {0}):
            refused = ", ".join(f"{n} {times}x" for times, n in sorted(result.busy.items()) if times)
            print(f"  viewers refused as busy before getting in (then joined again): {refused}", flush=True)
        for why, times in result.refused.items():
            print(f"  {times} of the rush's {result.sent} messages were not acked ok: {why}", flush=True)
        print(
            f"  {result.deliveries:,} deliveries of the rush's {result.sent} messages;"
            f" server RSS per viewer {figure(result.rss_per_viewer, 1)} KB",
            flush=True,
        )
    print()
    print(table(results))
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)
