"""Time arithmetic in SQL, written once for SQLite and PostgreSQL: an instant as Unix seconds.

Reports bucket facts by minute and add up durations in the database, where the rows are: these
expressions give both databases the same numbers to work with (SQLite keeps instants as text)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, cast, extract, func
from sqlalchemy.sql import ColumnElement

_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def seconds(moment: datetime) -> float:
    """An instant as Unix seconds, for comparing with `epoch`."""
    return moment.timestamp()


def epoch(column: Any, dialect: str) -> ColumnElement[float]:
    """The instant in `column` as Unix seconds (a float; NULL stays NULL)."""
    if dialect == "postgresql":
        return cast(extract("epoch", column), Float)
    # A Julian day number in a double is about 40 µs off: rounded to the millisecond, 10:01:00 is
    # 60 s after 10:00:00, not 59.99996 (which would fall in the minute before).
    return func.round((func.julianday(column) - _UNIX_EPOCH_JULIAN_DAY) * 86_400_000.0) / 1000.0


def minute(at_seconds: Any, start: float) -> ColumnElement[int]:
    """Which minute after `start` (Unix seconds) an instant given in seconds falls in: 0, 1, …"""
    return cast(func.floor((at_seconds - start) / 60.0), Integer)


@dataclass(frozen=True)
class Period:
    """A stretch of time facts are counted in: an episode's live, or its replay so far."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())

    @property
    def minutes(self) -> int:
        """How many minutes (the last one perhaps partial) it spans."""
        return math.ceil(self.seconds / 60)
