"""Poll storm benchmark: thousands of viewers of one live room vote in a poll, then enter a giveaway.

    .venv/bin/python -m tests.load.poll_storm [--viewers 1000,5000] [--database sqlite,postgresql] [--spread 10]
                                              [--guests nameless|nicknamed] [--patience 60]

Every row starts its own processes, all on 127.0.0.1: one app process (`tests/load/room_server.py`:
`shopcast demo` with the in-process bus, on SQLite in a temporary folder or on a PostgreSQL database
of the run's own, guest sign-ins unlimited since every viewer signs in from 127.0.0.1) and 1-4
load-client processes (`tests/load/poll_voters.py`) holding the viewers on raw WebSockets, each with
a guest token of its own. The demo's host puts the first
episode live and, over HTTP, opens a four-option poll; every viewer votes once (`poll:vote`) at its
own moment of the spread; the host closes the poll and reads the stored tally. Then the manager
prepares a giveaway, the host opens it, every viewer enters (`giveaway:enter`), the host closes it
and draws; the proof is fetched as anyone would and checked offline with
`shopcast giveaway verify --proof FILE`. This parent times the phases, reads CPU time from /proc
and prints the tables (`tests/load/poll_tables.py`). docs/benchmarks.md says what each column means.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.load.flash_shop import EXCEPTION, postgres_database
from tests.load.harness import (
    Child,
    RunFailed,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    raise_file_limit,
    split,
    wait_for_quiet,
)
from tests.load.poll_tables import DISTURBED, GIVEAWAY, MORE, POLL, Result, Storm, disturbed, table
from tests.load.poll_voters import child_main
from tests.load.room_fanout import Server

VIEWERS_PER_PROCESS = 1250
MAX_PROCESSES = 4
# Every viewer signs in as a guest from 127.0.0.1: the per-address guest limit would stop the 31st.
SETTINGS = {"SHOPCAST_GUEST_MAX_PER_WINDOW": "1000000"}
PASSWORD = "shopcast-demo"  # the demo's staff accounts (shopcast/demo.py)
OPTIONS = ("Sand", "Sage", "Ink", "Rust")
WINNERS = 3
LEAD_SECONDS = 1.0  # from the command to the first vote or entry
ACK_WAIT = 60.0  # after the spread, how long acks may still come: an event unacked by then counts as lost
SETTLE_SECONDS = 10.0  # after the last ack, how long the final count may take to reach the viewers
PACKAGES = ("python-socketio", "python-engineio", "aiohttp")


def log_in(server: Server, role: str) -> str:
    answer = server.api("POST", "/api/v1/auth/login", {"email": f"{role}@demo.shopcast.test", "password": PASSWORD})
    return str(answer["token"])


def per_second(times: list[float], start: float, end: float) -> tuple[float, float]:
    """The most arrivals in one of the whole seconds counted from `start`, and the mean per second over
    [start, end]."""
    most = max(Counter(math.floor(t - start) for t in times if t >= start).values(), default=0)
    within = sum(1 for t in times if start <= t <= end)
    return float(most), within / max(end - start, 1e-9)


class Run:
    """One row: the server, its load clients, and the steps of the storm."""

    def __init__(self, viewers: int, spread: float, folder: Path, progress: Callable[[str], None]) -> None:
        self.result = Result(viewers)
        self.viewers, self.spread, self.folder, self.progress = viewers, spread, folder, progress
        self.server: Server | None = None
        self.children: list[Child] = []

    def start(self, nameless: bool, settings: dict[str, str]) -> None:
        """The server with the episode live, and the load-client processes."""
        self.server = Server("shopcast", self.folder, settings)
        self.episode_id = self.server.episode_id()
        self.host, self.manager = log_in(self.server, "host"), log_in(self.server, "manager")
        self.server.api("POST", f"/api/v1/episodes/{self.episode_id}/start", token=self.host)
        processes = min(MAX_PROCESSES, math.ceil(self.viewers / VIEWERS_PER_PROCESS))
        lifetime = 300 + self.viewers / 10 + 4 * self.spread
        context = multiprocessing.get_context("spawn")
        for index in range(processes):
            args = (self.server.port, self.episode_id, index, processes, nameless, os.getpid(), lifetime)
            self.children.append(Child(context, "load-client", child_main, *args))
        for child in self.children:
            child.wait_ready(30)

    def end(self) -> None:
        for child in self.children:
            child.end()
        if self.server is not None:
            self.server.end()
            log = self.server.log.read_text(errors="replace")
            self.result.server_errors.update(m[1][:200] for m in EXCEPTION.finditer(log))

    def cpu(self) -> tuple[float, float, float]:
        return (
            cpu_seconds(self.server.process.pid),
            sum(child.cpu_seconds() for child in self.children),
            machine_busy_seconds(),
        )

    def ask(self, name: str, *args: Any, timeout: float = 60) -> list[Any]:
        """Every load-client process's answer to one command, asked of all at once."""
        for child in self.children:
            child.send(name, *args)
        return [child.receive(name, timeout) for child in self.children]

    def connect(self) -> None:
        result = self.result
        self.progress(f"signing in and joining {self.viewers} viewers in {len(self.children)} process(es)")
        began, cpu = time.monotonic(), cpu_seconds(self.server.process.pid)
        shares = split(self.viewers, len(self.children))
        for child, share in zip(self.children, shares, strict=True):
            child.send("connect_all", share)
        for child in self.children:
            child.receive("connect_all", 120 + self.viewers / 5)
        result.join_seconds = time.monotonic() - began
        result.join_cpu = cpu_seconds(self.server.process.pid) - cpu
        self.progress(f"{self.viewers} viewers in the room after {result.join_seconds:.0f} s")

    def storm(self, storm: Storm, event: str, counted: str, *args: Any) -> None:
        """Every viewer sends `event` once over the spread; wait for every ack, then for the viewers' count
        (`counted`: "last_voters" or "last_entries") to reach the acked events."""
        start = time.monotonic() + LEAD_SECONDS
        command = "vote" if event == "poll:vote" else "enter"
        self.ask(command, start, self.spread, self.viewers, *args)
        deadline = start + self.spread + ACK_WAIT
        time.sleep(max(0.0, start + self.spread - time.monotonic()))
        while sum(self.ask("waiting", event)) and time.monotonic() < deadline:
            time.sleep(0.25)
        acked_at = time.monotonic()
        outcomes = self.ask("outcomes", event, timeout=120)
        for outcome in outcomes:
            for why, choice, ms, entry_id in zip(
                outcome["outcome"], outcome["choice"], outcome["ack_ms"], outcome["entry_ids"], strict=True
            ):
                storm.sent += 1
                storm.sent_by_choice[str(choice)] += 1
                if ms >= 0:
                    storm.ack_ms[round(ms)] += 1
                if why == "ok":
                    storm.ok += 1
                    storm.ok_by_choice[str(choice)] += 1
                    if entry_id is not None:
                        storm.entry_ids.add(entry_id)
                elif why in ("no ack", "not sent"):
                    storm.no_ack += 1
                else:
                    storm.refused[why] += 1
        settle = time.monotonic() + SETTLE_SECONDS
        while (exact := sum(self.ask("exact", counted, storm.ok))) < self.viewers and time.monotonic() < settle:
            time.sleep(0.1)
        if exact == self.viewers:
            storm.settled_ms = 1000 * (time.monotonic() - acked_at)
        storm.viewers_exact = exact
        heard = self.ask("heard")
        times_key = "tally_times_us" if event == "poll:vote" else "entries_times_us"
        times = [us / 1e6 for us in heard[0][times_key]]
        storm.counts_per_s = per_second(times, start, start + self.spread)
        self.result.disconnected = max(self.result.disconnected, sum(h["disconnected"] for h in heard))

    def measured(self, storm: Storm, before: tuple[float, float, float], began: float) -> None:
        after = self.cpu()
        storm.seconds = time.monotonic() - began
        storm.server_cpu = after[0] - before[0]
        storm.clients_cpu = after[1] - before[1]
        storm.other_cpu = after[2] - before[2] - storm.server_cpu - storm.clients_cpu
        # Both processes read the same monotonic clock: the collections that fell in this step.
        collections = self.server.get("/bench/delivery")["full_collections"]
        storm.gc_pauses = [seconds for at, seconds in collections if began <= at <= began + storm.seconds]

    def heard_last(self, event: str, since: float) -> tuple[int, float]:
        """How many viewers heard `event`, and how long after `since` the last of them did (ms)."""
        heard = self.ask("heard")
        count = sum(h["heard"].get(event, 0) for h in heard)
        last = max((h["last_heard_us"].get(event, 0) for h in heard), default=0) / 1e6
        return count, 1000 * (last - since) if last else math.nan

    def wait_heard(self, event: str, since: float) -> tuple[int, float]:
        deadline = time.monotonic() + SETTLE_SECONDS
        while (heard := self.heard_last(event, since))[0] < self.viewers and time.monotonic() < deadline:
            time.sleep(0.1)
        return heard

    def poll(self) -> None:
        result, poll = self.result, self.result.poll
        body = {
            "question": "Which colour should I try on next?",
            "options": [{"label": label} for label in OPTIONS],
            "multiple": False,
            "allow_change": False,
            "duration_seconds": None,
            "quiz": False,
        }
        created = self.server.api("POST", f"/api/v1/episodes/{self.episode_id}/polls", body, token=self.host)
        poll_id = str(created["id"])
        result.labels = {str(option["id"]): option["label"] for option in created["options"]}
        self.progress(f"poll open; {self.viewers} votes over {self.spread:g} s")
        before, began = self.cpu(), time.monotonic()
        self.server.api("POST", f"/api/v1/polls/{poll_id}/open", token=self.host)
        self.storm(poll, "poll:vote", "last_voters", poll_id, list(result.labels))
        self.measured(poll, before, began)
        heard, poll.opened_ms = self.heard_last("poll:opened", began)
        self.server.api("POST", f"/api/v1/polls/{poll_id}/close", token=self.host)
        polls = self.server.api("GET", f"/api/v1/episodes/{self.episode_id}/polls", token=self.host)
        stored = next(p for p in polls if str(p["id"]) == poll_id)
        result.stored = stored_votes(stored)
        self.progress(
            f"{poll.ok} of {poll.sent} votes acked, {heard} viewers heard the poll open; stored {result.stored}"
        )

    def giveaway(self) -> None:
        result, giveaway = self.result, self.result.giveaway
        body = {
            "prize": {"title": "Linen wrap dress", "picture_url": None, "value": {"amount": 8900, "currency": "EUR"}},
            "winners": WINNERS,
            "rules": "One entry per viewer. Be in the room at the draw.",
            "entry": "button",
            "eligibility": {"present_at_draw": True, "min_watch_minutes": 0, "bought_during_show": False},
        }
        created = self.server.api("POST", f"/api/v1/episodes/{self.episode_id}/giveaways", body, token=self.manager)
        giveaway_id = str(created["id"])
        self.progress(f"giveaway open; {self.viewers} entries over {self.spread:g} s")
        before, began = self.cpu(), time.monotonic()
        self.server.api("POST", f"/api/v1/giveaways/{giveaway_id}/open", token=self.host)
        self.storm(giveaway, "giveaway:enter", "last_entries", giveaway_id)
        self.measured(giveaway, before, began)
        _, giveaway.opened_ms = self.heard_last("giveaway:opened", began)
        self.server.api("POST", f"/api/v1/giveaways/{giveaway_id}/close", token=self.host)
        drawing = time.monotonic()
        self.server.api("POST", f"/api/v1/giveaways/{giveaway_id}/draw", token=self.host)
        result.draw_ms = 1000 * (time.monotonic() - drawing)
        result.drawn_heard, result.reveal_ms = self.wait_heard("giveaway:drawn", drawing)
        status, proof = self.server.request("GET", f"/api/v1/public/giveaways/{giveaway_id}/proof")
        if status != 200:
            raise RunFailed(f"the proof got {status}: {proof[:300].decode(errors='replace')}")
        result.proof_bytes = len(proof)
        rounds = json.loads(proof)["rounds"]
        eligible = set(rounds[0]["eligible_entry_ids"]) if rounds else set()
        result.eligible, result.winners = len(eligible), len(rounds[0]["winners"]) if rounds else 0
        result.in_proof = len(giveaway.entry_ids & eligible)
        path = self.folder / "proof.json"
        path.write_bytes(proof)
        self.verify(path)
        self.progress(
            f"{giveaway.ok} of {giveaway.sent} entries acked, {result.eligible} eligible, "
            f"drawn in {result.draw_ms:.0f} ms, proof {result.proof_bytes} bytes, verify: {result.verify_says}"
        )

    def verify(self, path: Path) -> None:
        """`shopcast giveaway verify` as anyone would run it: a fresh process with no settings and no server
        (the same code as the server's), and `shopcast --help` for the start-up alone."""
        spec = importlib.util.find_spec("shopcast")
        assert spec is not None and spec.origin is not None
        root = str(Path(spec.origin).parents[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPCAST_")} | {"PYTHONPATH": root}
        timed = []
        for args in (["giveaway", "verify", "--proof", str(path)], ["--help"]):
            began = time.monotonic()
            command = [sys.executable, "-m", "shopcast", *args]
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=path.parent)
            timed.append((time.monotonic() - began, done))
        (self.result.verify_seconds, done), (self.result.start_up_seconds, _) = timed
        self.result.verify_exit = done.returncode
        said = (done.stdout.strip() or done.stderr.strip()).splitlines()
        self.result.verify_says = said[-1][:160] if said else ""


def stored_votes(poll: dict[str, Any]) -> dict[str, int] | None:
    """The votes per option in the staff view of a closed poll."""
    for holder in (poll.get("result"), poll.get("tally"), poll):
        if isinstance(holder, dict) and isinstance(holder.get("votes"), dict):
            return {str(option): int(n) for option, n in holder["votes"].items()}
    return None


def run_once(viewers: int, spread: float, nameless: bool, database: str, progress: Callable[[str], None]) -> Result:
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="poll-storm-"))
        run = Run(viewers, spread, Path(folder), progress)
        run.result.database = database
        try:
            settings = dict(SETTINGS)
            if database == "postgresql":
                url = stack.enter_context(postgres_database(f"shopcast_bench_{os.getpid()}_storm_{viewers}"))
                settings["SHOPCAST_DATABASE_URL"] = url.replace("postgresql://", "postgresql+asyncpg://")
            run.start(nameless, settings)
            for part, step in (("join", run.connect), ("poll", run.poll), ("giveaway", run.giveaway)):
                step()
                run.result.done.add(part)
        except Exception as exc:  # the API answering otherwise than expected included: the row says why
            traceback.print_exc()
            run.result.note = f"failed: {type(exc).__name__}: {exc}"[:300]
        finally:
            run.end()
        return run.result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="5000", help="viewer counts, comma separated (default 5000)")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="sqlite (a temporary folder), postgresql (a database of the run's own on 127.0.0.1), or both: "
        "sqlite,postgresql",
    )
    parser.add_argument("--spread", type=float, default=10, help="seconds over which every viewer votes (default 10)")
    parser.add_argument(
        "--guests",
        choices=["nameless", "nicknamed"],
        default="nameless",
        help="guests without a nickname, as a viewer who votes at once is (default), or with one",
    )
    parser.add_argument("--patience", type=float, default=60, help="seconds to wait for a quiet machine (default 60)")
    options = parser.parse_args()
    counts = sorted({int(n) for n in options.viewers.split(",")})
    databases = [name.strip() for name in options.database.split(",")]
    if min(counts) < 2 or max(counts) > 10_000 or not 1 <= options.spread <= 60:
        parser.error("viewers must be 2-10000 and spread 1-60")
    if not databases or any(name not in ("sqlite", "postgresql") for name in databases):
        parser.error("database: sqlite, postgresql or both")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks that end the children
    raise_file_limit()
    try:
        run_all(counts, databases, options.spread, options.guests == "nameless", options.patience)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_all(counts: list[int], databases: list[str], spread: float, nameless: bool, patience: float) -> None:
    began = time.monotonic()
    guests = "nameless" if nameless else "nicknamed"
    print(f"Poll storm on 127.0.0.1, {guests} guests, votes over {spread:g} s: {machine(*PACKAGES)}", flush=True)
    results: list[Result] = []
    stopped: set[str] = set()  # databases whose smaller room failed
    for count in counts:
        for database in databases:
            if database in stopped:
                continue

            def progress(message: str, count: int = count, database: str = database) -> None:
                print(f"  [{time.monotonic() - began:5.0f} s] {database} x {count}: {message}", file=sys.stderr)

            waited = time.monotonic()
            wait_for_quiet(progress, patience)
            patience = max(0.0, patience - (time.monotonic() - waited))
            result = run_once(count, spread, nameless, database, progress)
            results.append(result)
            for storm, event in ((result.poll, "poll:vote"), (result.giveaway, "giveaway:enter")):
                for why, times in storm.refused.items():
                    print(f"  {database} x {count}: {times} {event} refused: {why}", flush=True)
            for error, times in result.server_errors.items():
                print(f"  {database} x {count}: the server logged {times} x {error}", flush=True)
            if result.note:
                print(f"  {database} x {count}: {result.note}", flush=True)
                stopped.add(database)
    for columns, part in ((POLL, "poll"), (GIVEAWAY, "giveaway"), (MORE, "join")):
        print()
        print(table(columns, results, part))
    if any(disturbed(r) for r in results):
        print(f"\n* other work on the machine used more than {DISTURBED * 100:.0f}% of a core during a phase")
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
