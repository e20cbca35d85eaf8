"""CSV cells a spreadsheet would run as formulas are made plain text; numbers stay numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopcast.core.spreadsheet import cell
from shopcast.reports.spreadsheet import csv_file


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Robe =chic", "Robe =chic"),
        ("Été", "Été"),
        (-3, "-3"),
        (0.25, "0.25"),
        (None, ""),
        (True, "true"),
        (datetime(2026, 9, 20, 10, tzinfo=UTC), "2026-09-20T10:00:00+00:00"),
    ],
)
def test_a_cell(value: object, written: str) -> None:
    assert cell(value) == written


def test_a_file_has_a_byte_order_mark_and_quotes_what_needs_it() -> None:
    body = csv_file(["title", "revenue"], [['Robe "Été", rouge', 4990]])
    assert body == '\ufefftitle,revenue\r\n"Robe ""Été"", rouge",4990\r\n'.encode()
