"""What a poll storm run (tests/load/poll_storm.py) found, and the tables it prints."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.load.harness import markdown_table
from tests.load.room_fanout import figure, quantiles

DISTURBED = 0.5  # cores other work may use during a phase before its row is marked


@dataclass
class Storm:
    """One event every viewer sent once (`poll:vote` or `giveaway:enter`) and what came of it."""

    sent: int = 0
    ok: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # why, for those acked with an error
    no_ack: int = 0
    ack_ms: Counter[int] = field(default_factory=Counter)
    ok_by_choice: Counter[str] = field(default_factory=Counter)
    sent_by_choice: Counter[str] = field(default_factory=Counter)
    entry_ids: set[str] = field(default_factory=set)
    counts_per_s: tuple[float, float] = (math.nan, math.nan)  # the watcher's counts (tallies, entries) a second
    viewers_exact: int = 0  # viewers whose last count (voters, entries) was the acked events
    settled_ms: float = math.nan  # from the last ack until every viewer's last count was the acked events, ms
    server_cpu: float = math.nan  # from opening to settling
    clients_cpu: float = math.nan
    other_cpu: float = math.nan
    seconds: float = math.nan
    opened_ms: float = math.nan  # from the open request to the last viewer hearing it opened
    gc_pauses: list[float] = field(default_factory=list)  # the server's full collections meanwhile, s

    @property
    def lost(self) -> int:
        return self.sent - self.ok


@dataclass
class Result:
    viewers: int
    database: str = "sqlite"
    note: str = ""
    done: set[str] = field(default_factory=set)  # the parts that ran to their end: "join", "poll", "giveaway"
    server_errors: Counter[str] = field(default_factory=Counter)  # the exceptions the server logged
    join_seconds: float = math.nan
    join_cpu: float = math.nan
    disconnected: int = 0
    poll: Storm = field(default_factory=Storm)
    stored: dict[str, int] | None = None  # option id -> votes, as the host reads them after the close
    labels: dict[str, str] = field(default_factory=dict)  # option id -> label
    giveaway: Storm = field(default_factory=Storm)
    draw_ms: float = math.nan
    reveal_ms: float = math.nan  # from the draw request to the last viewer hearing `giveaway:drawn`
    drawn_heard: int = 0
    proof_bytes: int = 0
    eligible: int = 0
    in_proof: int = 0  # acked entry IDs found among the proof's eligible ones
    winners: int = 0
    verify_seconds: float = math.nan  # the command's wall time
    start_up_seconds: float = math.nan  # `shopcast --help`'s: the interpreter and the CLI's imports
    verify_exit: int | None = None
    verify_says: str = ""

    @property
    def exact(self) -> bool:
        """The stored votes per option are the votes sent, each of them acked."""
        poll = self.poll
        return self.stored is not None and Counter(self.stored) == poll.ok_by_choice == poll.sent_by_choice


# --- the tables ----------------------------------------------------------------------------------


def pair(values: tuple[float, float], digits: int = 1) -> str:
    return f"{figure(values[0], digits)} / {figure(values[1], digits)}"


def tally_check(r: Result) -> str:
    if r.stored is None:
        return "not read"
    return "exact" if r.exact else f"stored {sum(r.stored.values()):,}, acked {r.poll.ok:,}, sent {r.poll.sent:,}"


def cpu_share(storm: Storm) -> str:
    return f"{figure(storm.server_cpu, 1)} ({figure(100 * storm.server_cpu / storm.seconds)}%)"


def verified(r: Result) -> str:
    said = "ok" if r.verify_exit == 0 else f"exit {r.verify_exit}"
    return f"{figure(r.verify_seconds, 2)} ({figure(r.start_up_seconds, 2)}), {said}"


Column = tuple[str, Callable[[Result], str]]
POLL: list[Column] = [
    ("votes sent", lambda r: f"{r.poll.sent:,}"),
    ("acked", lambda r: f"{r.poll.ok:,}"),
    ("lost", lambda r: f"{r.poll.lost:,}"),
    ("stored tally vs votes sent", tally_check),
    ("vote ack p50 / p99, ms", lambda r: quantiles(r.poll.ack_ms)),
    ("poll:tally heard a second, max / mean", lambda r: pair(r.poll.counts_per_s)),
    ("viewers with the exact final tally", lambda r: f"{r.poll.viewers_exact:,}"),
    ("final tally at every viewer after the last ack, ms", lambda r: figure(r.poll.settled_ms)),
    ("server CPU-s (% of a core)", lambda r: cpu_share(r.poll)),
]
GIVEAWAY: list[Column] = [
    ("entries acked / sent", lambda r: f"{r.giveaway.ok:,} / {r.giveaway.sent:,}"),
    ("entry ack p50 / p99, ms", lambda r: quantiles(r.giveaway.ack_ms)),
    ("giveaway:entries heard a second, max / mean", lambda r: pair(r.giveaway.counts_per_s)),
    ("eligible in proof (acked among them)", lambda r: f"{r.eligible:,} ({r.in_proof:,})"),
    ("draw, ms", lambda r: figure(r.draw_ms)),
    ("reveal heard by all, ms", lambda r: figure(r.reveal_ms) if r.drawn_heard >= r.viewers else "-"),
    ("proof, bytes", lambda r: f"{r.proof_bytes:,}"),
    ("verify (start-up alone), s", verified),
    ("server CPU-s (% of a core)", lambda r: cpu_share(r.giveaway)),
]
MORE: list[Column] = [
    ("joins/s", lambda r: figure(r.viewers / r.join_seconds)),
    ("server CPU ms per join", lambda r: figure(1000 * r.join_cpu / r.viewers, 1)),
    ("poll:opened heard by all, ms", lambda r: figure(r.poll.opened_ms)),
    (
        "server CPU ms per vote / entry",
        lambda r: pair(
            (1000 * r.poll.server_cpu / max(r.poll.sent, 1), 1000 * r.giveaway.server_cpu / max(r.giveaway.sent, 1))
        ),
    ),
    ("load clients CPU, % of a core", lambda r: figure(100 * r.poll.clients_cpu / r.poll.seconds)),
    (
        "other work, % of a core",
        lambda r: figure(100 * max(r.poll.other_cpu / r.poll.seconds, r.giveaway.other_cpu / r.giveaway.seconds)),
    ),
    ("full GC pauses in votes / entries: count, longest ms", lambda r: f"{pauses(r.poll)} / {pauses(r.giveaway)}"),
    ("disconnected", lambda r: f"{r.disconnected}"),
]


def pauses(storm: Storm) -> str:
    return f"{len(storm.gc_pauses)}, {1000 * max(storm.gc_pauses, default=0):.0f}"


def disturbed(r: Result) -> bool:
    return any(s.other_cpu / s.seconds > DISTURBED for s in (r.poll, r.giveaway) if s.seconds > 0)


def table(columns: list[Column], results: list[Result], part: str) -> str:
    """One row per run; a run that failed before the end of `part` says so instead."""
    rows = []
    for r in results:
        failed = part not in r.done
        cells = ["failed (see above)"] + ["-"] * (len(columns) - 1) if failed else [cell(r) for _, cell in columns]
        rows.append([r.database + (" *" if disturbed(r) else ""), f"{r.viewers:,}", *cells])
    return markdown_table(["database", "viewers", *(name for name, _ in columns)], rows)
