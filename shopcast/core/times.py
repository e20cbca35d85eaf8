"""Date-times on the wire: an instant always carries its offset; a wall-clock time names none.

pydantic alone reads a bare number as Unix seconds and a date-time without an offset as naive:
a client sending `after=0.5` or `2026-10-06T19:00` for an instant would get an answer for a time it
did not mean. These types read only RFC 3339 text, and say in the OpenAPI document what they read.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, WithJsonSchema

from shopcast.core.errors import InvalidValue

_DATE_TIME = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_OFFSET = r"([Zz]|[+-]\d{2}:\d{2})"
_INSTANT = re.compile(rf"^{_DATE_TIME}{_OFFSET}$")
_WALL_CLOCK = re.compile(rf"^{_DATE_TIME}{_OFFSET}?$")


def _text_like(pattern: re.Pattern[str], hint: str) -> BeforeValidator:
    """Text matching `pattern` (an already parsed datetime passes): no Unix seconds, no other shapes.
    `hint`: the catalogue key of how to write one."""

    def check(value: object) -> object:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise InvalidValue(hint)
        return value

    return BeforeValidator(check)


Instant = Annotated[
    AwareDatetime,
    _text_like(_INSTANT, "errors.field.instant"),
]
"""A moment: read only with an offset (a naive one is refused), always written with its offset."""

WallClock = Annotated[
    datetime,
    _text_like(_WALL_CLOCK, "errors.field.wall_clock"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _WALL_CLOCK.pattern,
            "description": "A wall-clock time in the show's time zone (e.g. 2026-10-06T19:00), "
            "or a date-time with an offset, converted to that zone.",
        }
    ),
]
"""A time in a named time zone given elsewhere: naive is the zone's wall-clock, an offset is converted."""
