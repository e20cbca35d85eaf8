"""Facts: rows of what happened (a card seen, units put in a cart, a viewer watching), written in batches.

Reports count facts, and the moments that make the most of them are the busiest ones (a product
pinned in front of thousands of viewers, a flash sale), so recording one is never a round trip of
its own: `record` only queues the row, and one writer per process inserts what has queued, one
statement per table and batch. As in core/group_commit.py there is no timer: the first fact of a
quiet moment is written at once, and those arriving while a batch is written (or in the second
the writer lets pass after it) go in the next one, so batches grow with the load. Nobody
waits for a fact: a batch that fails is kept and tried again a little later (up to `MOST_WAITING`
rows; past that the oldest are dropped, and logged). What is still waiting is written as the app
stops; a process that dies loses the facts of its last moment only (the batch being written and
those of the second after it).

A fact that lasts (a viewer watching from a join to a leave) is recorded when it begins and `amend`ed
when it ends: in its row while that still waits, else by its primary key in the next batch, after
that batch's new rows (so an amend never comes before the row it changes).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.exc import IntegrityError

from shopcast.core import tasks
from shopcast.core.db import Database, dialect_of, insert_ignoring_duplicates

log = logging.getLogger(__name__)

MOST_PER_STATEMENT = 1000
"""Rows in one INSERT: bounds a statement's parameters (SQLite allows 32,766 per statement)."""
MOST_WAITING = 200_000
"""Rows kept while the database does not take them: bounds the memory an outage costs."""
RETRY_SECONDS = 1.0
PAUSE_SECONDS = 1.0
"""The least time between two batches."""


class Facts:
    def __init__(
        self, database: Database, *, most_waiting: int = MOST_WAITING, pause_seconds: float = PAUSE_SECONDS
    ) -> None:
        self._database = database
        self._most_waiting = most_waiting
        self._pause = pause_seconds
        self._waiting: dict[Table, list[dict[str, Any]]] = {}
        self._unwritten: dict[tuple[Table, Any], dict[str, Any]] = {}  # waiting rows by primary key, to amend
        self._amends: dict[Table, dict[Any, dict[str, Any]]] = {}  # changes to rows already written, by key
        self._count = 0
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None

    def record(self, table: Table, row: dict[str, Any]) -> None:
        """Queue one fact (a row of `table`); a row colliding with one already written is skipped."""
        if self._count >= self._most_waiting:
            self._drop_oldest()
        self._waiting.setdefault(table, []).append(row)
        key = _key(table, row)
        if key is not None:
            self._unwritten[(table, key)] = row
        self._count += 1
        self._woken()

    def amend(self, table: Table, key: Any, values: dict[str, Any]) -> None:
        """Change columns of a fact recorded earlier (its end), found by its primary key `key`."""
        waiting = self._unwritten.get((table, key))
        if waiting is not None:
            waiting.update(values)
            return
        amends = self._amends.setdefault(table, {})
        if key not in amends:
            self._count += 1
        amends[key] = {**amends.get(key, {}), **values}
        self._woken()

    def _drop_oldest(self) -> None:
        for table, rows in self._waiting.items():
            if rows:
                dropped = rows.pop(0)
                self._count -= 1
                self._unwritten.pop((table, _key(table, dropped)), None)
                log.warning("facts waiting past %d: one dropped (%s)", self._most_waiting, dropped)
                return

    def _woken(self) -> None:
        self._wake.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_when_woken(), name="facts")

    async def _write_when_woken(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0)  # facts recorded in the same turn of the loop join the first batch
            if not await self._write_waiting():
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()
            else:
                # A breath between batches: on SQLite, where writes take turns, back-to-back batches
                # in a rush (a join each, thousands a minute) would keep the chat's and the orders'
                # writes waiting for their turn.
                await asyncio.sleep(self._pause)

    async def _write_waiting(self) -> bool:
        """Write what waits; False (and kept for the next try) if the database could not take it.
        Each row carries its own key, so writing a batch again never makes a fact twice."""
        async with self._writing:
            batch, self._waiting, count = self._waiting, {}, self._count
            amends, self._amends = self._amends, {}
            # From here the batch's rows are being written: amends to them wait for the next batch.
            self._unwritten = {}
            self._count = 0
            if not batch and not amends:
                return True
            try:
                try:
                    await self._insert(batch, amends)
                except IntegrityError:
                    # A row naming what is gone (an episode deleted meanwhile, a pin that never was):
                    # the others are written one by one, that one is dropped.
                    await self._insert_one_by_one(batch, amends)
            except Exception:
                log.exception("could not write %d facts; keeping them for the next try", count)
                for table, rows in batch.items():
                    self._waiting[table] = rows + self._waiting.get(table, [])
                for table, changes in amends.items():
                    self._amends[table] = {**changes, **self._amends.get(table, {})}
                self._count += count
                return False
            return True

    async def _insert(
        self, batch: dict[Table, list[dict[str, Any]]], amends: dict[Table, dict[Any, dict[str, Any]]]
    ) -> None:
        async with self._database.transaction() as session:
            for table, rows in batch.items():
                for start in range(0, len(rows), MOST_PER_STATEMENT):
                    chunk = rows[start : start + MOST_PER_STATEMENT]
                    insert = insert_ignoring_duplicates(session, table)
                    if dialect_of(session) == "sqlite":
                        # One statement with every row's values: SQLite's driver would take each row of
                        # an executemany apart, its thread waiting for the busy event loop's GIL at
                        # each, with the database's one write lock held meanwhile.
                        await session.execute(insert.values(chunk))
                    else:
                        await session.execute(insert, chunk)
            for table, changes in amends.items():
                for columns, rows in _by_columns(table, changes).items():
                    (key,) = table.primary_key.columns
                    statement = (
                        table.update()
                        .where(key == bindparam("_key"))
                        .values({column: bindparam(f"_set_{column}") for column in columns})
                    )
                    await session.execute(statement, rows)

    async def _insert_one_by_one(
        self, batch: dict[Table, list[dict[str, Any]]], amends: dict[Table, dict[Any, dict[str, Any]]]
    ) -> None:
        for table, rows in batch.items():
            for row in rows:
                try:
                    await self._insert({table: [row]}, {})
                except IntegrityError:
                    log.warning("a fact the database refused was dropped: %s %s", table.name, row)
        if amends:
            await self._insert({}, amends)

    async def flush(self) -> None:
        """Write every fact recorded so far (a report about to be read on this process)."""
        await self._write_waiting()

    async def close(self) -> None:
        """Write what is left (the app stopping)."""
        if self._writer is not None:
            async with self._writing:  # a batch being written is finished, not cut short
                self._writer.cancel()
            await tasks.stop(self._writer)
            self._writer = None
        await self._write_waiting()


def _key(table: Table, row: dict[str, Any]) -> Any:
    """The row's primary key (facts that are amended have a one-column key), else None."""
    columns = table.primary_key.columns
    return row.get(next(iter(columns)).name) if len(columns) == 1 else None


def _by_columns(table: Table, changes: dict[Any, dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Amends grouped by the columns they set, each as the parameters of one UPDATE by key."""
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, values in changes.items():
        parameters = {f"_set_{column}": value for column, value in values.items()}
        grouped.setdefault(tuple(sorted(values)), []).append({"_key": key, **parameters})
    return grouped
