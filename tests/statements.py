"""The statements an app sends its database during a block, for tests of work it must not do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event

from shopcast.web.context import RESOURCES


@contextlib.contextmanager
def statements_sent(client: Any, naming: str) -> Iterator[list[str]]:
    """The SQL naming `naming` (a table, a clause) that the app behind the test client sends during the
    block; the rest (its clocks' own statements on other tables) is left out."""
    engine = client.app[RESOURCES].database.engine.sync_engine
    sent: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if naming in statement:
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
