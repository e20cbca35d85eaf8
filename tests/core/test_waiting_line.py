"""The waiting line's `retry_after`: viewers refused together are told to come back apart, at the pace
the line was answering, and a busy database inside the line is re-timed the same way."""

from __future__ import annotations

import pytest

from shopcast.core.errors import Busy
from shopcast.core.waiting_line import LONGEST_WAIT_SECONDS, WaitingLine


class Moments:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def refused_seconds(line: WaitingLine) -> int:
    with pytest.raises(Busy) as refused, line.place():
        pass
    assert refused.value.status == 503
    assert refused.value.reason.key == "errors.room.busy"
    seconds = refused.value.extra["retry_after"]
    assert refused.value.reason.params == {"seconds": seconds}
    return int(seconds)


def test_an_audience_refused_together_is_told_to_come_back_apart_at_the_lines_pace() -> None:
    moments = Moments()
    line = WaitingLine(1, refusal="errors.room.busy", now=moments, draw=lambda: 0.0)
    # The line answered 500 joins over its last 5 s: 100 a second.
    for _ in range(500):
        with line.place():
            moments.at += 0.01
    with line.place():
        told = [refused_seconds(line) for _ in range(1000)]
    # A hundred a second come back, the first ones first: ten seconds for a thousand of them.
    assert told[0] == 1 and told[-1] == 10
    assert told == sorted(told)
    assert all(told.count(second) <= 101 for second in set(told))


def test_however_long_the_line_nobody_is_told_to_wait_past_a_minute_and_a_half() -> None:
    line = WaitingLine(1, refusal="errors.room.busy", now=Moments(), draw=lambda: 1.0)
    with line.place():
        told = [refused_seconds(line) for _ in range(5000)]
    assert max(told) == LONGEST_WAIT_SECONDS * 1.5


def test_a_busy_database_inside_the_line_is_retimed_at_the_lines_pace() -> None:
    line = WaitingLine(10, refusal="errors.room.busy", now=Moments(), draw=lambda: 0.0)
    with pytest.raises(Busy) as refused, line.place():
        raise Busy("errors.busy", retry_after=5)
    assert refused.value.reason.key == "errors.busy"
    assert refused.value.extra == {"retry_after": 1}
    assert line.under_way == 0
