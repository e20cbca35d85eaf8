"""A line of work under way (the joins of live rooms at 19:00), of bounded length: an arrival past it
is refused at once as busy, and told when to come back.

A process that takes every join it is sent answers all of them late: past some length a join would
wait longer than a page waits for its ack (10 s) and be sent again, which only adds to the work. So
past `most` under way a join is refused before it costs anything, with a `retry_after` worked out
from what the process knows: the joins ahead, the viewers already told to come back, and the pace
joins were answered at over the last seconds. Each refused viewer is given the next free moment at
that pace, plus a random part, so that an audience refused together does not come back together.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shopcast.core.errors import Busy
from shopcast.core.ratelimit import whole_seconds

PACE_SECONDS = 5.0
"""The pace is measured over the answers of the last this many seconds."""
SLOWEST_PACE = 20.0
"""Answers a second assumed when fewer were measured (a quiet moment, or a stall): waits stay short,
and a client that is refused again waits longer by itself (docs/api.md asks clients to back off)."""
LONGEST_WAIT_SECONDS = 60.0
"""However long the line, nobody is told to come back later than this (plus the random part)."""


class WaitingLine:
    """At most `most` under way; `refusal`: the catalogue key of the busy refusal past them, with
    `{seconds}` to come back after."""

    def __init__(
        self,
        most: int,
        *,
        refusal: str,
        now: Callable[[], float] = time.monotonic,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.most = most
        self.under_way = 0
        self._refusal = refusal
        self._now = now
        self._draw = draw
        self._answered: deque[float] = deque()
        self._booked_until = 0.0  # the moment after the last one told to come back

    @contextmanager
    def place(self) -> Iterator[None]:
        """A place in the line for the block, or Busy (503, `retry_after`) at once when it is full.
        A Busy raised inside (no database connection came free) is re-timed the same way, so those
        viewers too come back spread out rather than all after the same fixed wait."""
        if self.under_way >= self.most:
            seconds = self.retry_after()
            raise Busy(self._refusal, retry_after=seconds, seconds=seconds)
        self.under_way += 1
        try:
            yield
        except Busy as busy:
            params: dict[str, Any] = busy.reason.params
            raise Busy(busy.reason.key, retry_after=self.retry_after(), **params) from None
        finally:
            self.under_way -= 1
            self._answered.append(self._now())

    def pace(self) -> float:
        """Answers a second over the last PACE_SECONDS (at least SLOWEST_PACE)."""
        since = self._now() - PACE_SECONDS
        while self._answered and self._answered[0] < since:
            self._answered.popleft()
        return max(SLOWEST_PACE, len(self._answered) / PACE_SECONDS)

    def retry_after(self) -> int:
        """When one more refused arrival should come back, in whole seconds: the next free moment at
        the line's pace, after those under way and those told before it, plus a random part of at
        least a second (half its wait when longer)."""
        now = self._now()
        pace = self.pace()
        start = min(max(now + self.under_way / pace, self._booked_until), now + LONGEST_WAIT_SECONDS)
        self._booked_until = start + 1 / pace
        wait = start - now
        return whole_seconds(wait + self._draw() * max(1.0, wait / 2))
