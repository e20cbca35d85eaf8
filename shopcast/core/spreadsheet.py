"""CSV files a spreadsheet opens safely: UTF-8 with a byte order mark (accents read right), and text
that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first: a
product's title such as `=HYPERLINK(…)`) written with a leading `'`, which keeps it text."""

from __future__ import annotations

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_text(text: str) -> str:
    """`text` as a cell that stays text."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
