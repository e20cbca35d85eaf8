"""On SQLite, the writers of a process take turns in the order they came (shopcast/core/sqlite_writes.py):
none waits in SQLite's busy handler, none overtakes one that waited longer, and a turn always comes
back however its transaction ends. Reads never wait for a turn. On PostgreSQL writers of different
rows do not exclude each other, and nothing waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shopcast.core.db import Database, create_engine

ARRIVING_SECONDS = 0.2  # between two writers' starts, so that each is waiting before the next comes
HANG_GUARD_SECONDS = 10  # a turn never given back would hold the next writer 30 s (SQLite's busy timeout)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(create_engine(database_url))
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE notes (name VARCHAR(20) PRIMARY KEY)"))
    yield database
    async with database.transaction() as session:  # PostgreSQL's test database is shared by the tests
        await session.execute(text("DROP TABLE notes"))
    await database.close()


async def note(database: Database, name: str) -> None:
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO notes (name) VALUES (:name)"), {"name": name})


async def holding_a_write(database: Database, release: asyncio.Event, done: list[str]) -> asyncio.Task[None]:
    """A task whose transaction has written and stays open until `release` is set."""
    wrote = asyncio.Event()

    async def hold() -> None:
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO notes (name) VALUES ('first')"))
            wrote.set()
            await release.wait()
        done.append("first")

    task = asyncio.create_task(hold())
    await wrote.wait()
    return task


async def test_writers_waiting_for_one_write_in_the_order_they_came(database: Database) -> None:
    release, done = asyncio.Event(), []
    first = await holding_a_write(database, release, done)

    async def writer(name: str) -> None:
        await note(database, name)
        done.append(name)

    waiting = []
    for name in ("a", "b", "c", "d"):
        waiting.append(asyncio.create_task(writer(name)))
        await asyncio.sleep(ARRIVING_SECONDS)
    release.set()
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        await asyncio.gather(first, *waiting)
    if database.dialect == "sqlite":
        assert done == ["first", "a", "b", "c", "d"]
    else:  # nobody waited for the open transaction
        assert done == ["a", "b", "c", "d", "first"]
    async with database.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 5


async def test_reading_never_waits_for_a_writers_turn(database: Database) -> None:
    release = asyncio.Event()
    first = await holding_a_write(database, release, [])
    async with asyncio.timeout(HANG_GUARD_SECONDS), database.transaction() as session:
        # The open transaction's row is not there yet for anyone else.
        assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 0
    release.set()
    await first


async def refused(database: Database) -> None:
    await note(database, "twice")
    with pytest.raises(IntegrityError):
        await note(database, "twice")


async def failed(database: Database) -> None:
    with pytest.raises(LookupError):
        async with database.transaction() as session:
            await session.execute(text("INSERT INTO notes (name) VALUES ('rolled back')"))
            raise LookupError("the block failed after writing")


async def cancelled(database: Database) -> None:
    release = asyncio.Event()
    first = await holding_a_write(database, release, [])
    first.cancel()  # a client gone mid-request, the app stopping
    with pytest.raises(asyncio.CancelledError):
        await first


@pytest.mark.parametrize("ending", [refused, failed, cancelled], ids=lambda ending: ending.__name__)
async def test_the_turn_comes_back_however_a_writing_transaction_ends(
    database: Database, ending: Callable[[Database], Awaitable[None]]
) -> None:
    await ending(database)
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        await note(database, "next")
    async with database.transaction() as session:
        names = set((await session.execute(text("SELECT name FROM notes"))).scalars())
    assert "next" in names and "rolled back" not in names and "first" not in names
