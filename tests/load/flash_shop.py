"""The app under the flash-sale benchmark (tests/load/flash_sale.py), and the machine's ceiling.

A PostgreSQL database and Redis keys of the run's own, removed afterwards; `shopcast serve` processes
on 127.0.0.1 and the CLI beside them; the brand seeded as an operator and its staff would (the CLI for
accounts and tokens, the API for the rest); what the app's PostgreSQL connections are doing and the CPU
time of each part of the machine; and `pgbench` running one conditional UPDATE of one row.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import redis

from tests.load.flash_buyers import STORE_ID
from tests.load.harness import Child, RunFailed, cpu_seconds, die_with_parent, free_port, machine_busy_seconds

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
BRAND = "flash-bench"
EXCEPTION = re.compile(r"^([a-zA-Z_][\w.]*(?:Error|Exception|Timeout)\w*(?::.*)?)$", re.MULTILINE)

# --- PostgreSQL and Redis ------------------------------------------------------------------------


def services_cpu_seconds() -> dict[int, float]:
    """CPU time of each PostgreSQL and Redis server process on the machine (ours and anyone else's), by id."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() in ("postgres", "redis-server"):
                    found[int(pid)] = cpu_seconds(int(pid))
    return found


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres", timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A database of our own for the duration, dropped afterwards (its connections too)."""
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Connections:
    """What the app's PostgreSQL connections are doing, sampled every 50 ms from a thread of its own:
    running a statement, waiting for a lock (another transaction holds the row), or idle in a
    transaction (waiting for the app to send the next statement or the commit)."""

    STATES = ("running", "waiting for a lock", "idle in transaction")

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[tuple[float, Counter[str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), name="connections", daemon=True)

    def __enter__(self) -> Connections:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    async def _sample(self) -> None:
        connection = await asyncpg.connect(self.url, timeout=10)
        try:
            while not self._stop.is_set():
                rows = await connection.fetch(
                    "SELECT state, wait_event_type FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                counted: Counter[str] = Counter()
                for row in rows:
                    if row["state"] == "active":
                        counted["waiting for a lock" if row["wait_event_type"] == "Lock" else "running"] += 1
                    elif row["state"] == "idle in transaction":
                        counted["idle in transaction"] += 1
                self.samples.append((time.monotonic(), counted))
                await asyncio.sleep(0.05)
        finally:
            await connection.close()

    def means(self, start: float, end: float) -> list[float]:
        """The mean number of connections in each state between two moments."""
        within = [counted for at, counted in self.samples if start <= at <= end]
        return [sum(c[state] for c in within) / max(1, len(within)) for state in self.STATES]


@contextlib.contextmanager
def redis_prefix(url: str) -> Iterator[str]:
    """A key prefix of our own; every key under it is deleted afterwards."""
    prefix = f"shopcast-bench-{os.getpid()}-{secrets.token_hex(4)}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(url)
        try:
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)
        finally:
            client.close()


# --- the app -------------------------------------------------------------------------------------


class App:
    """`shopcast serve` processes on 127.0.0.1 sharing a database, and the CLI beside them."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    def start(self, count: int, *, workers: int = 1) -> None:
        """`count` `shopcast serve` processes, each with `workers` app processes on its port."""
        serve = [sys.executable, "-m", "shopcast", "serve", f"--workers={workers}", "--host=127.0.0.1"]
        for n in range(count):  # one after the other: each applies pending migrations first
            port = free_port()
            with open(self.folder / f"server-{n}.log", "wb") as log:
                process = subprocess.Popen(
                    [*serve, f"--port={port}"],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent,
                )
            self.processes.append(process)
            self.ports.append(port)
            deadline = time.monotonic() + 60
            while not self._healthy(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RunFailed(f"the app did not start; see {self.folder}/server-{n}.log")
                time.sleep(0.2)

    @staticmethod
    def _healthy(port: int) -> bool:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status == 200
        return False

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "shopcast", *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RunFailed(f"shopcast {args[0]}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout.strip()

    def api(self, method: str, path: str, body: Any = None, token: str = "") -> Any:
        request = urllib.request.Request(
            self.bases[0] + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RunFailed(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from exc

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def errors(self) -> Counter[str]:
        """The exceptions the app processes logged so far (the last line of each traceback)."""
        found: Counter[str] = Counter()
        for log in sorted(self.folder.glob("server-*.log")):
            found.update(m[1] for m in EXCEPTION.finditer(log.read_text(errors="replace")))
        return found

    @contextlib.contextmanager
    def profiled(self, folder: Path | None, name: str) -> Iterator[None]:
        """With a folder: `py-spy` samples each app process during the block (`<name>-<n>.txt`, collapsed
        stacks, the sampled process not paused: `--nonblocking`); without one, nothing."""
        if folder is None:
            yield
            return
        spy = shutil.which("py-spy")
        if spy is None:
            raise RunFailed("--profile needs py-spy on the PATH (pip install py-spy, in a venv of its own)")
        folder.mkdir(parents=True, exist_ok=True)
        record = [spy, "record", "--format", "raw", "--rate", "250", "--nonblocking"]
        spies = [
            subprocess.Popen(
                [*record, "--pid", str(process.pid), "--output", str(folder / f"{name}-{n}.txt")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
            for n, process in enumerate(self.processes)
        ]
        time.sleep(1.0)  # attached before the sale's moment
        try:
            yield
        finally:
            for spy_process in spies:
                spy_process.send_signal(signal.SIGINT)  # py-spy writes its file as it stops
            for spy_process in spies:
                try:
                    spy_process.wait(30)
                except subprocess.TimeoutExpired:
                    spy_process.kill()
                    spy_process.wait()

    def end(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Shop:
    """The seeded brand: its manager's and host's tokens and the live episode."""

    manager: str
    host: str
    episode_id: str


def seed(app: App) -> Shop:
    password = secrets.token_urlsafe(12)
    for role in ("manager", "host"):
        account = f"--email {role}@flash.bench --role {role} --brand {BRAND}".split()
        app.cli("user", "add", *account, f"--password={password}", "--brand-name", "Flash bench")
    manager, host = (app.cli("token", "--email", f"{role}@flash.bench") for role in ("manager", "host"))
    commerce = {
        "currency": "EUR",
        "flat_rate": 490,
        "free_above": 10000,
        "pickup_stores": [{"id": STORE_ID, "name": "Bench store", "address": "1 rue du Banc, Paris"}],
        "tax_rate_percent": 20,
        "tax_included": True,
    }
    app.api("PUT", f"/api/v1/brands/{BRAND}/commerce", commerce, manager)
    members = app.api("GET", f"/api/v1/brands/{BRAND}/members", token=manager)
    host_id = next(m["user_id"] for m in members if m["role"] == "host")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    show = {"title": "Flash bench live", "time_zone": "UTC", "first_episode_at": tomorrow, "default_host_id": host_id}
    show_id = app.api("POST", f"/api/v1/brands/{BRAND}/shows", show, manager)["id"]
    episode_id = app.api("GET", f"/api/v1/shows/{show_id}/episodes", token=manager)[0]["id"]
    app.api("POST", f"/api/v1/episodes/{episode_id}/start", token=host)
    return Shop(manager, host, episode_id)


def product_on_sale(app: App, shop: Shop, name: str, units: int) -> tuple[str, str]:
    """A new product with one variant of `units`, pinned by the host: (product id, variant id)."""
    body = {"title": f"Flash {name}", "price": 4900, "variants": [{"sku": f"FLASH-{name.upper()}", "stock": units}]}
    product = app.api("POST", f"/api/v1/brands/{BRAND}/products", body, shop.manager)
    app.api("POST", f"/api/v1/episodes/{shop.episode_id}/pin", {"product_id": product["id"]}, shop.host)
    return product["id"], product["variants"][0]["id"]


# --- CPU time ------------------------------------------------------------------------------------


@dataclass
class Usage:
    """Cores used over a window (CPU-seconds per second) by the app processes, PostgreSQL and Redis (all of
    the machine's), the load clients and everything else; and the app's CPU-seconds."""

    app: float
    services: float
    clients: float
    other: float
    app_seconds: float


@dataclass
class Snapshot:
    """CPU-seconds so far of the app, each PostgreSQL and Redis process, the load clients, and the machine
    less this parent and the kernel's interrupts (the loopback network's, mostly), which are no other work."""

    app: float
    services: dict[int, float]
    clients: float
    machine: float
    at: float


def snapshot(app: App, children: list[Child]) -> Snapshot:
    return Snapshot(
        app.cpu_seconds(),
        services_cpu_seconds(),
        sum(child.cpu_seconds() for child in children),
        machine_busy_seconds() - cpu_seconds(os.getpid()) - interrupt_seconds(),
        time.monotonic(),
    )


def interrupt_seconds() -> float:
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    return (ticks[5] + ticks[6]) / os.sysconf("SC_CLK_TCK")  # irq + softirq


def usage(before: Snapshot, after: Snapshot) -> Usage:
    seconds = after.at - before.at
    app, clients = after.app - before.app, after.clients - before.clients
    # Processes that ended meanwhile are left out; those that began count from their start.
    services = sum(cpu - before.services.get(pid, 0.0) for pid, cpu in after.services.items())
    other = after.machine - before.machine - app - services - clients
    return Usage(app / seconds, services / seconds, clients / seconds, other / seconds, app)


# --- the machine's ceiling -----------------------------------------------------------------------

CEILING_SQL = "UPDATE stock SET n = n - 1 WHERE id = 1 AND n >= 1;"


@dataclass
class Ceiling:
    command: str
    tps: float
    latency_ms: float


def pgbench_binary() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), key=lambda p: int(p.split("/")[4]))
    binary = found[-1] if found else shutil.which("pgbench")
    if binary is None:
        raise RunFailed("pgbench not found: Debian's postgresql-15 package has it (apt-get install postgresql-contrib)")
    return binary


async def _stock_table(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute("CREATE TABLE stock (id int PRIMARY KEY, n int NOT NULL CHECK (n >= 0))")
        await connection.execute("INSERT INTO stock VALUES (1, 1000000000)")
    finally:
        await connection.close()


def pgbench_ceiling(seconds: int, clients: int) -> Ceiling:
    """One row's conditional UPDATE, each its own committed transaction, as fast as PostgreSQL takes them."""
    name = f"shopcast_bench_{os.getpid()}_pgbench"
    with postgres_database(name) as url, tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        asyncio.run(_stock_table(url))
        script.write(CEILING_SQL + "\n")
        script.flush()
        threads = min(clients, os.cpu_count() or 1)
        options = f"-n -M prepared -c {clients} -j {threads} -T {seconds} -h 127.0.0.1 -p 5432 -U postgres"
        command = [pgbench_binary(), *options.split(), "-f", script.name, name]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
        latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
        if done.returncode != 0 or tps is None or latency is None:
            raise RunFailed(f"pgbench: {done.stderr.strip() or done.stdout.strip()}")
    shown = " ".join([*command[:-3], "-f update.sql <database>"])
    return Ceiling(shown, float(tps[1]), float(latency[1]))
