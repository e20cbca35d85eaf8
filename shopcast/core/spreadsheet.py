"""CSV files a spreadsheet opens safely: UTF-8 with a byte order mark (accents read right), and text
that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first: a
product's title such as `=HYPERLINK(…)`) written with a leading `'`, which keeps it text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_text(text: str) -> str:
    """`text` as a cell that stays text."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """One value as a CSV cell: numbers as they are, text that could be a formula made plain text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return plain_text(str(value))


class Sheet:
    """A CSV file written in memory: its byte order mark, then rows of cells, then its bytes."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._buffer.write(BOM)
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def row(self, values: Iterable[Any]) -> None:
        self._writer.writerow([cell(value) for value in values])

    def bytes(self) -> bytes:
        return self._buffer.getvalue().encode("utf-8")
