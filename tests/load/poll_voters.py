"""The viewers of the poll storm benchmark (tests/load/poll_storm.py), many to a load-client process.

They are the room fan-out's raw viewers (`room_clients`), each with a guest token of its own, since
a viewer without one cannot vote or enter. A viewer notes the poll and giveaway events it hears;
the process's first viewer (its *watcher*) also notes when each `poll:tally` and
`giveaway:entries` arrived. On the parent's word every viewer sends one
event (`poll:vote`, `giveaway:enter`) at its own moment of a spread, and times its ack.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import orjson

from tests.load.harness import child_process, run_commands
from tests.load.room_clients import Clients, Tally, Viewer
from tests.load.socketio_wire import event_packet

VOTERS = re.compile(rb'"voters":(\d+)')
ENTRIES = re.compile(rb'"entries":(\d+)')
# Room events the parent asks about: each viewer notes whether (and the process when) it heard them.
NOTED = ("poll:opened", "poll:closed", "giveaway:opened", "giveaway:closed", "giveaway:drawn")


class Heard(Tally):
    """What this process's viewers heard of the storm's events."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: Counter[str] = Counter()  # event -> viewers of this process that heard it
        self.last_heard_us: dict[str, int] = {}  # event -> when the last of them heard it
        self.tally_times_us: list[int] = []  # the watcher's `poll:tally` arrivals
        self.entries_times_us: list[int] = []  # the watcher's `giveaway:entries` arrivals


class Voter(Viewer):
    tally: Heard

    def __init__(self, port: int, episode_id: str, heard: Heard, token: str | None, watcher: bool) -> None:
        super().__init__(port, episode_id, heard, token)
        self.watcher = watcher
        self.last_voters = -1  # the voters of the last `poll:tally`
        self.last_entries = -1  # the entries of the last `giveaway:entries`

    def event(self, payload: bytes, now_us: int) -> None:
        heard = self.tally
        if payload.startswith(b'42["poll:tally"'):
            found = VOTERS.search(payload)
            self.last_voters = int(found[1]) if found is not None else -1
            if self.watcher:
                heard.tally_times_us.append(now_us)
        elif payload.startswith(b'42["giveaway:entries"'):
            found = ENTRIES.search(payload)
            self.last_entries = int(found[1]) if found is not None else -1
            if self.watcher:
                heard.entries_times_us.append(now_us)
        else:
            name = payload[4 : payload.find(b'"', 4)].decode()
            if name in NOTED:
                heard.heard[name] += 1
                heard.last_heard_us[name] = now_us


class Sent:
    """One event each viewer sent: its outcome (or "no ack"), how long the ack took, the ack's data."""

    def __init__(self, count: int) -> None:
        self.outcome = ["not sent"] * count
        self.choice: list[Any] = [None] * count
        self.ack_ms = [-1.0] * count
        self.answer: list[Any] = [None] * count


class Voters(Clients):
    """The commands the parent sends to a load-client process of the poll storm."""

    def __init__(self, port: int, episode_id: str, index: int, processes: int, nameless: bool) -> None:
        super().__init__(port, episode_id)
        self.tally: Heard = Heard()
        self.index, self.processes = index, processes
        self.nameless = nameless
        self.storms: dict[str, Sent] = {}  # "poll:vote" / "giveaway:enter" -> what each viewer sent
        self.tasks: list[asyncio.Task[None]] = []
        self.made = 0

    def viewer(self, token: str | None) -> Viewer:
        self.made += 1
        return Voter(self.port, self.episode_id, self.tally, token, watcher=self.made == 1)

    def guest(self, number: int) -> dict[str, Any]:
        return {} if self.nameless else {"nickname": f"Viewer {self.number(number)}"}

    def number(self, local: int) -> int:
        """A viewer's number among every process's: the processes' viewers interleave."""
        return local * self.processes + self.index

    async def connect_all(self, count: int) -> int:
        """Sign in `count` guests and join each to the room (the first is this process's watcher)."""
        return await self.connect(count, count)

    async def heard(self) -> dict[str, Any]:
        """Which room events the viewers heard, and the last tally and entry counts each saw."""
        viewers: list[Voter] = self.viewers  # type: ignore[assignment]
        return {
            "heard": dict(self.tally.heard),
            "last_heard_us": self.tally.last_heard_us,
            "last_voters": Counter(v.last_voters for v in viewers),
            "last_entries": Counter(v.last_entries for v in viewers),
            "tally_times_us": self.tally.tally_times_us,
            "entries_times_us": self.tally.entries_times_us,
            "disconnected": self.tally.disconnected,
        }

    async def exact(self, counted: str, value: int) -> int:
        """How many viewers' last count (`counted`: "last_voters" or "last_entries") is `value`."""
        return sum(1 for viewer in self.viewers if getattr(viewer, counted) == value)

    async def vote(self, start: float, spread: float, total: int, poll_id: str, option_ids: list[str]) -> None:
        """Viewer number n votes for option n mod len(option_ids) at `start + spread * n / total`."""

        def payload(number: int) -> tuple[Any, dict[str, Any]]:
            option_id = option_ids[number % len(option_ids)]
            return option_id, {"episode_id": self.episode_id, "poll_id": poll_id, "option_ids": [option_id]}

        self._storm("poll:vote", start, spread, total, payload)

    async def enter(self, start: float, spread: float, total: int, giveaway_id: str) -> None:
        """Viewer number n enters the giveaway at `start + spread * n / total`."""
        data = {"episode_id": self.episode_id, "giveaway_id": giveaway_id}
        self._storm("giveaway:enter", start, spread, total, lambda _: (None, data))

    def _storm(
        self, event: str, start: float, spread: float, total: int, payload: Callable[[int], tuple[Any, Any]]
    ) -> None:
        viewers = self.viewers
        sent = self.storms[event] = Sent(len(viewers))
        sent_at = [0.0] * len(viewers)
        ack_id = len(self.storms)  # one event per viewer and storm: 1, 2 (0 is the join's)

        def acked(local: int, answer: bytes) -> None:
            sent.ack_ms[local] = (time.monotonic() - sent_at[local]) * 1000
            data = orjson.loads(answer[answer.index(b"[") :])[0]
            sent.answer[local] = data
            if isinstance(data, dict) and data.get("ok") is True:
                sent.outcome[local] = "ok"
            else:
                error = data.get("error") if isinstance(data, dict) else None
                why = f"{error.get('status')} {error.get('detail')}" if isinstance(error, dict) else str(data)
                sent.outcome[local] = why[:160]

        async def schedule() -> None:
            moments = sorted((start + spread * self.number(local) / total, local) for local in range(len(viewers)))
            for moment, local in moments:
                await asyncio.sleep(max(0.0, moment - time.monotonic()))
                viewer = viewers[local]
                choice, data = payload(self.number(local))
                sent.choice[local] = choice
                sent.outcome[local] = "no ack"
                viewer.acks[ack_id] = lambda answer, local=local: acked(local, answer)
                sent_at[local] = time.monotonic()
                viewer.send(event_packet(event, data, ack_id))

        self.tasks.append(asyncio.create_task(schedule()))

    async def waiting(self, event: str) -> int:
        """How many of the viewers' `event` have no ack yet."""
        outcome = self.storms[event].outcome
        return outcome.count("no ack") + outcome.count("not sent")

    async def outcomes(self, event: str) -> dict[str, Any]:
        """Per viewer: the outcome ("ok", "no ack" or the refusal), the choice, the ack's ms, the entry ID."""
        for task in self.tasks:
            if task.done():
                task.result()  # a failure to send is the parent's to see
        sent = self.storms[event]
        return {
            "outcome": sent.outcome,
            "choice": sent.choice,
            "ack_ms": sent.ack_ms,
            "entry_ids": [
                answer["entry"]["id"] if isinstance(answer, dict) and isinstance(answer.get("entry"), dict) else None
                for answer in sent.answer
            ],
        }


def child_main(
    conn: Connection,
    port: int,
    episode_id: str,
    index: int,
    processes: int,
    nameless: bool,
    parent: int,
    lifetime: float,
) -> None:
    """A spawned load-client process: runs the parent's commands until `stop`."""
    child_process(parent, lifetime)
    asyncio.run(run_commands(conn, Voters(port, episode_id, index, processes, nameless)))
    os._exit(0)
