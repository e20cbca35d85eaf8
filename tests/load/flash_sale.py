"""Flash-sale benchmark: a thousand buyers at once for a few units, through real `shopcast serve` processes.

    .venv/bin/python -m tests.load.flash_sale [--buyers 1000] [--units 50] [--setups pg,pg2,sqlite]
                                              [--sales flash,race,rush] [--clients 2] [--redis-url URL]
                                              [--pgbench-seconds 10] [--pgbench-clients 4] [--via http]
                                              [--profile DIR] [--patience 600]

Each setup starts its own app on 127.0.0.1 (`tests/load/flash_shop.py`: one process on PostgreSQL in a
database of the run's own, two processes on it with Redis, or one on SQLite in a temporary folder),
seeds a brand with the CLI and the API, puts a show live and runs the sales one after another, each on
a new product:

- flash: every buyer adds the pinned product during the live (the unit held at the tap), the winners
  check out at once; with `--via socket` the buyers are viewers joined to the live room and tap as the
  player does (the room's `cart:add`, answered by its ack), and the winners check out once every tap
  is answered (the storm of taps timed alone; a person needs a moment to confirm an order anyway);
- race: every buyer adds it outside the live (checked, not held), then all check out at once;
- rush: the race with a unit for each of at most 500 buyers, so every checkout sells.

The buyers are guests in 1-4 load-client processes (`tests/load/flash_buyers.py`). This parent counts
the orders as the brand's manager, reads the stock, the CPU time of every process from /proc and what
PostgreSQL's connections are doing, runs `pgbench` on one conditional UPDATE of one row for the
machine's ceiling, and prints the tables. docs/benchmarks.md says what each column means.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis

from tests.load.flash_buyers import child_main
from tests.load.flash_shop import (
    BRAND,
    CEILING_SQL,
    REDIS,
    App,
    Connections,
    Shop,
    Usage,
    pgbench_ceiling,
    postgres_database,
    product_on_sale,
    redis_prefix,
    seed,
    snapshot,
    usage,
)
from tests.load.harness import Child, RunFailed, machine, markdown_table, percentile, split, wait_for_quiet

RUSH_MAX = 500  # the manager's order list shows at most 500 orders: the rush stays countable through the API
WARM_UP_BUYERS = 20
PHASE_SECONDS = 180  # the longest a sale's step may take before the run is called failed
# Cores other work may use during a sale before its row is marked: on a quiet machine the kernel's threads
# working for the benchmark itself (writeback, workqueues) show there as 15-35% of a core.
DISTURBED = 0.5
PACKAGES = ("aiohttp", "sqlalchemy", "asyncpg", "aiosqlite")


@dataclass(frozen=True)
class Setup:
    key: str
    name: str
    database: str  # "postgresql" or "sqlite"
    processes: int


VIAS = ("http", "socket")  # how the flash sale's buyers add: the HTTP API, or the live room's `cart:add`
SETUPS = {
    "pg": Setup("pg", "PostgreSQL, 1 process", "postgresql", 1),
    "pg2": Setup("pg2", "PostgreSQL, 2 processes + Redis", "postgresql", 2),
    "sqlite": Setup("sqlite", "SQLite, 1 process", "sqlite", 1),
}
SALES = ("flash", "race", "rush")


@dataclass
class Result:
    setup: Setup
    kind: str
    via: str = "http"  # the flash sale's adds: over HTTP or in the live room (the race and the rush: HTTP)
    buyers: int = 0
    units: int = 0
    note: str = ""
    orders: int = 0  # orders for the sale's product, as the manager lists them
    ordered_units: int = 0
    stock: int = -1  # what is left on sale at the end
    adds: list[tuple[str, float, float]] = field(default_factory=list)  # (outcome, sent, answered)
    checkouts: list[tuple[str, float, float]] = field(default_factory=list)
    started: float = math.nan  # the flash sale's release, the race's and the rush's checkouts' release
    seconds: float = math.nan  # from `started` to the last answer
    sale: Usage | None = None  # the whole sale
    checking_out: Usage | None = None  # the race's and the rush's checkouts
    connections: list[float] | None = None  # PostgreSQL's, from `started` to the last answer
    server_errors: Counter[str] = field(default_factory=Counter)  # what the app logged meanwhile

    @property
    def other_cpu(self) -> float:
        return self.sale.other if self.sale is not None else 0.0

    @property
    def oversold(self) -> int:
        return self.ordered_units - self.units

    def unexpected(self) -> Counter[str]:
        return Counter(o for o, _, _ in self.adds + self.checkouts if o not in ("ok", "sold out"))


# --- one setup -----------------------------------------------------------------------------------


def run_setup(
    setup: Setup, options: argparse.Namespace, sales: list[str], progress: Callable[[str], None]
) -> list[Result]:
    context = multiprocessing.get_context("spawn")
    results: list[Result] = []
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flash-sale-")))
        env = {
            **os.environ,
            "SHOPCAST_DATA_DIR": str(folder / "data"),
            "SHOPCAST_SECRET_KEY": secrets.token_urlsafe(48),
            "SHOPCAST_GUEST_MAX_PER_WINDOW": str(10 * options.buyers + 1000),  # every buyer comes from 127.0.0.1
        }
        for name in ("SHOPCAST_DATABASE_URL", "SHOPCAST_REDIS_URL", "SHOPCAST_REDIS_PREFIX"):
            env.pop(name, None)
        url = ""
        try:
            if setup.database == "postgresql":
                url = stack.enter_context(postgres_database(f"shopcast_bench_{os.getpid()}_{setup.key}"))
                env["SHOPCAST_DATABASE_URL"] = url.replace("postgresql://", "postgresql+asyncpg://")
            if setup.processes > 1:
                env["SHOPCAST_REDIS_URL"] = options.redis_url
                env["SHOPCAST_REDIS_PREFIX"] = stack.enter_context(redis_prefix(options.redis_url))
            app = App(env, folder)
            stack.callback(app.end)
            app.start(setup.processes)
            shop = seed(app)
            connections = stack.enter_context(Connections(url)) if setup.database == "postgresql" else None
            lifetime = PHASE_SECONDS * 4 * (len(sales) + 1)
            children = [
                Child(context, "buyers", child_main, app.bases, os.getpid(), lifetime) for _ in range(options.clients)
            ]
            for child in children:
                stack.callback(child.end)
            for child in children:
                child.wait_ready()
            progress("warming up")
            warm_up = Result(setup, "flash", options.via, WARM_UP_BUYERS, 2 * WARM_UP_BUYERS)
            run_sale(app, shop, children, connections, warm_up, 0, name="warm-up")
            numbered = WARM_UP_BUYERS
            for sale in sales:
                count = min(options.buyers, RUSH_MAX) if sale == "rush" else options.buyers
                on_sale = count if sale == "rush" else options.units
                progress(f"{sale}: {count} buyers for {on_sale} units")
                result = Result(setup, sale, options.via if sale == "flash" else "http", count, on_sale)
                profile = options.profile and Path(options.profile)
                results.append(run_sale(app, shop, children, connections, result, numbered, profile=profile or None))
                numbered += count
        except (RunFailed, OSError, asyncpg.PostgresError, redis.RedisError) as exc:
            results.append(Result(setup, sales[len(results)] if len(results) < len(sales) else "-", note=str(exc)))
    return results


def run_sale(
    app: App,
    shop: Shop,
    children: list[Child],
    connections: Connections | None,
    result: Result,
    first: int,
    *,
    name: str = "",
    profile: Path | None = None,
) -> Result:
    """One sale of a new product to new buyers (numbered from `first`), counted afterwards; with `profile`,
    the app processes' samples during it in that folder."""
    buyers = result.buyers
    product_id, variant_id = product_on_sale(app, shop, name or result.kind, result.units)
    everyone(children, "sign_up", lambda i, share, start: (first + start, share), buyers)
    tapping = result.kind == "flash" and result.via == "socket"
    if tapping:  # the viewers are in the room before the pin's moment, as the player's are
        everyone(children, "join", lambda *_: (shop.episode_id,), buyers)

    errors = app.errors()
    with app.profiled(profile, f"{result.setup.key}-{result.kind}-{result.via}"):
        before = snapshot(app, children)
        result.started = time.monotonic() + 0.5  # the decisive release: the flash sale's adds, the others' checkouts
        if result.kind == "flash" and not tapping:
            everyone(children, "flash", lambda *_: (result.started, BRAND, variant_id, shop.episode_id), buyers)
        else:
            if tapping:  # the taps' window alone is the sale's; the checkouts follow at once
                everyone(children, "tap", lambda *_: (result.started, BRAND, variant_id, shop.episode_id), buyers)
                result.sale = usage(before, snapshot(app, children))
            else:
                everyone(children, "add", lambda *_: (result.started, BRAND, variant_id), buyers)
                result.started = time.monotonic() + 0.5
            checking_out = snapshot(app, children)
            everyone(children, "check_out", lambda *_: (max(result.started, time.monotonic()), BRAND), buyers)
            result.checking_out = usage(checking_out, snapshot(app, children))
        if not tapping:
            result.sale = usage(before, snapshot(app, children))
    for child in children:
        report = child.call("report", timeout=60)
        result.adds += [tuple(a) for a in report["add"]]
        result.checkouts += [tuple(c) for c in report["checkout"]]
    result.server_errors = app.errors() - errors
    last = max((a for _, _, a in result.adds + result.checkouts), default=result.started)
    result.seconds = last - result.started
    if connections is not None:
        result.connections = connections.means(result.started, last)

    orders = app.api("GET", f"/api/v1/brands/{BRAND}/orders?limit=500", token=shop.manager)
    lines = [(order["id"], item) for order in orders for item in order["items"] if item["product_id"] == product_id]
    result.orders = len({order_id for order_id, _ in lines})
    result.ordered_units = sum(item["quantity"] for _, item in lines)
    card = app.api("GET", f"/api/v1/public/products/{product_id}")
    result.stock = card["variants"][0]["stock"]
    return result


def everyone(
    children: list[Child], command: str, arguments: Callable[[int, int, int], tuple[Any, ...]], buyers: int
) -> None:
    """Send a command to every load-client process at once (each with its share of the buyers) and wait."""
    shares = split(buyers, len(children))
    for i, (child, share) in enumerate(zip(children, shares, strict=True)):
        child.send(command, *arguments(i, share, sum(shares[:i])))
    for child in children:
        child.receive(command, PHASE_SECONDS)


# --- the table -----------------------------------------------------------------------------------


def latencies(requests: list[tuple[str, float, float]]) -> str:
    ms = [(answered - sent) * 1000 for _, sent, answered in requests]
    return "-" if not ms else f"{percentile(ms, 0.5):,.0f} / {percentile(ms, 0.99):,.0f}"


def checkout_rate(r: Result) -> str:
    """Checkout answers per second from the first checkout sent to the last answered; and those that sold."""
    if not r.checkouts:
        return "-"
    window = max(a for _, _, a in r.checkouts) - min(s for _, s, _ in r.checkouts)
    sold = sum(o == "ok" for o, _, _ in r.checkouts)
    return f"{len(r.checkouts) / window:,.0f} / {sold / window:,.0f}"


def last_sold(r: Result) -> str:
    """When the last add that got a unit was answered, from the release: the refusals cannot all be
    answered before the units are all taken."""
    sold = [answered for outcome, _, answered in r.adds if outcome == "ok"]
    return "-" if not sold or r.kind != "flash" else f"{(max(sold) - r.started) * 1000:,.0f}"


def outcomes(requests: list[tuple[str, float, float]]) -> str:
    counted = Counter(o if o in ("ok", "sold out") else "other" for o, _, _ in requests)
    return f"{counted['ok']:,} / {counted['sold out']:,} / {counted['other']:,}"


def app_cpu_per_request(r: Result) -> str:
    """The app's CPU time over the sale per request answered (over the taps per tap, with `--via socket`); and
    in the checkouts that follow the adds (the race's, the rush's, the taps'), per checkout."""
    if r.sale is None:
        return "-"
    answered = len(r.adds) if r.via == "socket" else len(r.adds) + len(r.checkouts)  # the taps' window alone
    per_request = f"{r.sale.app_seconds * 1000 / max(1, answered):.1f}"
    if r.checking_out is None:
        return f"{per_request} / -"
    return f"{per_request} / {r.checking_out.app_seconds * 1000 / max(1, len(r.checkouts)):.1f}"


def connection_states(r: Result) -> str:
    return "-" if r.connections is None else " / ".join(f"{n:.1f}" for n in r.connections)


def cores(window: Usage | None, what: str) -> str:
    return "-" if window is None else f"{getattr(window, what) * 100:.0f}"


Column = tuple[str, Callable[[Result], str]]
MAIN: list[Column] = [
    ("buyers", lambda r: f"{r.buyers:,}"),
    ("units", lambda r: f"{r.units:,}"),
    ("orders created", lambda r: f"{r.orders:,}"),
    ("oversold", lambda r: f"{r.oversold:,}"),
    ("stock left", lambda r: f"{r.stock:,}"),
    ("add-to-cart p50 / p99, ms", lambda r: latencies(r.adds)),
    ("checkout p50 / p99, ms", lambda r: latencies(r.checkouts)),
    ("checkouts/s: answered / sold", checkout_rate),
]
MORE: list[Column] = [
    ("sale over in, s", lambda r: f"{r.seconds:.2f}"),
    ("adds: ok / sold out / other", lambda r: outcomes(r.adds)),
    ("last unit's add answered at, ms", last_sold),
    ("checkouts: ok / sold out / other", lambda r: outcomes(r.checkouts)),
    ("app CPU per request / per checkout, ms", app_cpu_per_request),
    ("app CPU, % of a core", lambda r: cores(r.sale, "app")),
    ("PostgreSQL connections: running / waiting for a lock / idle in transaction", connection_states),
    ("PostgreSQL and Redis CPU, % of a core", lambda r: cores(r.sale, "services")),
    ("load clients CPU, % of a core", lambda r: cores(r.sale, "clients")),
    ("other work, % of a core", lambda r: cores(r.sale, "other")),
]


def table(columns: list[Column], results: list[Result]) -> str:
    rows = []
    for r in results:
        cells = [f"failed: {r.note}"] + ["-"] * (len(columns) - 1) if r.note else [cell(r) for _, cell in columns]
        sale = r.kind if r.via == "http" else f"{r.kind}, {r.via}"
        rows.append([r.setup.name + (" *" if r.other_cpu > DISTURBED else ""), sale, *cells])
    return markdown_table(["setup", "sale", *(name for name, _ in columns)], rows)


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=1000, help="buyers in each sale (default 1000)")
    parser.add_argument("--units", type=int, default=50, help="units on sale in the flash sale and the race (50)")
    parser.add_argument("--setups", default="pg,pg2,sqlite", help="pg, pg2 (2 processes + Redis), sqlite")
    parser.add_argument("--sales", default=",".join(SALES), help="flash, race, rush (default all three)")
    parser.add_argument("--clients", type=int, default=2, help="load-client processes (1-4, default 2)")
    parser.add_argument("--via", choices=VIAS, default="http", help="the flash sale's adds: http or socket (the room)")
    parser.add_argument("--profile", default="", help="a folder for py-spy's samples of the app during each sale")
    parser.add_argument("--patience", type=float, default=600, help="seconds to wait for a quiet machine (600)")
    parser.add_argument("--redis-url", default=REDIS, help=f"Redis for the two processes (default {REDIS})")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="length of the pgbench run (0: none)")
    parser.add_argument("--pgbench-clients", type=int, default=4, help="pgbench's concurrent clients (default 4)")
    options = parser.parse_args()
    setups = [SETUPS[key] for key in options.setups.split(",") if key in SETUPS]
    sales = [sale for sale in SALES if sale in options.sales.split(",")]
    if not setups or not sales or not 10 <= options.buyers <= 5000 or not 1 <= options.units <= options.buyers:
        parser.error("setups: pg, pg2, sqlite; sales: flash, race, rush; buyers 10-5000; units 1 to buyers")
    if not 1 <= options.clients <= 4 or not 0 <= options.pgbench_seconds <= 60:
        parser.error("clients 1-4, pgbench seconds 0-60")
    if not 1 <= options.pgbench_clients <= 64:
        parser.error("pgbench clients 1-64")
    if urlsplit(options.redis_url).hostname != "127.0.0.1":
        parser.error("the Redis URL must be on 127.0.0.1: the benchmark talks to this machine only")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that clean up
    try:
        run_all(options, setups, sales)
    except KeyboardInterrupt:  # every setup's processes, database and Redis keys are gone by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_all(options: argparse.Namespace, setups: list[Setup], sales: list[str]) -> None:
    began = time.monotonic()
    print(f"Flash sale on 127.0.0.1: {machine(*PACKAGES)}", flush=True)
    patience = options.patience  # seconds, over the whole script, to wait for other work to leave the machine

    def quiet(progress: Callable[[str], None]) -> None:
        nonlocal patience
        waited = time.monotonic()
        wait_for_quiet(progress, patience)
        patience = max(0.0, patience - (time.monotonic() - waited))

    results: list[Result] = []
    for setup in setups:

        def progress(message: str, setup: Setup = setup) -> None:
            print(f"  [{time.monotonic() - began:5.0f} s] {setup.name}: {message}", file=sys.stderr, flush=True)

        quiet(progress)
        done = run_setup(setup, options, sales, progress)
        for line in table(MAIN, done).splitlines()[2:]:
            print(line, flush=True)
        results += done
    ceiling = None
    if options.pgbench_seconds:
        quiet(lambda message: print(f"  pgbench: {message}", file=sys.stderr, flush=True))
        try:
            ceiling = pgbench_ceiling(options.pgbench_seconds, options.pgbench_clients)
        except (RunFailed, OSError, subprocess.TimeoutExpired, asyncpg.PostgresError) as exc:
            print(f"pgbench failed: {exc}", flush=True)
    print()
    print(table(MAIN, results))
    print()
    print(table(MORE, results))
    for r in results:
        for why, times in r.unexpected().most_common(5):
            print(f"{r.setup.name}, {r.kind}: {times} x {why}", flush=True)
        for error, times in r.server_errors.most_common(5):
            print(f"{r.setup.name}, {r.kind}, the app's log: {times} x {error}", flush=True)
    if any(r.other_cpu > DISTURBED for r in results):
        print(f"\n* other work on the machine used more than {DISTURBED * 100:.0f}% of a core during the sale")
    if ceiling is not None:
        print(
            f"\npgbench, `{CEILING_SQL}` on one row: {ceiling.tps:,.0f} transactions/s "
            f"(latency average {ceiling.latency_ms:.2f} ms); a quarter is {ceiling.tps / 4:,.0f}/s"
        )
        print(f"  {ceiling.command}")
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
