"""SQLite's writers in this process take turns in the event loop, in the order they came.

SQLite lets one transaction write at a time. Another writer's first write finds the database locked
and waits in SQLite's busy handler, which sleeps between two looks (1, 2, 5, 10 … then 100 ms at a
time): a turn given back at once may be taken a hundred milliseconds later, and not by the writer
that waited longest. In a rush of arriving viewers a chat message's insert waited up to half a
second that way behind a batch of watch sessions. Here the process's writers wait on an asyncio lock
instead, taken just before a transaction's first write and given back as it commits or rolls back
(or its connection goes back to the pool): the next writer goes the moment the turn is free, the
longest waiting first. SQLite's busy timeout still covers other processes writing to the same file
(`shopcast migrate`, a second worker), and a turn not had within that timeout is not waited for
any longer: the write then meets SQLite's own lock, and its "database is locked", as before.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util.concurrency import await_only, in_greenlet

TURN = "sqlite_write_turn"
"""The key, in a pooled connection's info, of the turn its transaction holds."""
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


@dataclass
class Turn:
    """A transaction's turn to write (`lock` None: not had within the wait, so not held either)."""

    lock: asyncio.Lock | None
    over: bool = False

    def give_back(self) -> None:
        if not self.over:
            self.over = True
            if self.lock is not None:
                self.lock.release()


class WriteTurns:
    """One writer at a time, per event loop (tests run several loops in one process)."""

    def __init__(self, most_wait_seconds: float) -> None:
        self._most_wait = most_wait_seconds
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        # The turn of each connection in a transaction that wrote. Also in its pooled connection's
        # info, for the connection's return to the pool: a connection invalidated mid-transaction
        # (cut off, cancelled) no longer shows that info when it rolls back.
        self.held: weakref.WeakKeyDictionary[Connection, Turn] = weakref.WeakKeyDictionary()

    async def take(self) -> Turn:
        """The turn, once free (or after the whole wait, not held)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(self._most_wait):
                await lock.acquire()
        except TimeoutError:
            return Turn(None)
        return Turn(lock)


def _writes(context: ExecutionContext | None, statement: str) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete or context.isddl):
        return True
    return statement.lstrip()[:7].upper().startswith(WRITES)


def take_turns(engine: AsyncEngine, most_wait_seconds: float) -> None:
    """Make the engine's writers take turns (`most_wait_seconds`: SQLite's busy timeout)."""
    turns = WriteTurns(most_wait_seconds)
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before_a_write(
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if connection in turns.held or not in_greenlet() or not _writes(context, statement):
            return
        turn = turns.held[connection] = await_only(turns.take())
        connection.info[TURN] = turn

    @event.listens_for(sync_engine, "commit")
    @event.listens_for(sync_engine, "rollback")
    def _transaction_over(connection: Connection) -> None:
        turn = turns.held.pop(connection, None)
        if turn is not None:
            turn.give_back()

    @event.listens_for(sync_engine.pool, "checkin")
    def _back_in_the_pool(_dbapi_connection: Any, entry: ConnectionPoolEntry) -> None:
        turn = entry.info.pop(TURN, None)
        if turn is not None:
            turn.give_back()
