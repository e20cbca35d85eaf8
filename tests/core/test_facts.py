"""Facts are written in batches off the caller's path: the ones recorded together go in one batch,
nothing is lost while the database refuses them (they are written once it takes them), a row it
refuses for itself is dropped alone, and what waits is written as the app stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, select

from shopcast.core.db import Database, create_engine
from shopcast.core.facts import Facts

TALLY = Table("facts_test", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer, nullable=False))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(create_engine(database_url))
    yield db
    async with db.engine.begin() as connection:
        await connection.run_sync(TALLY.metadata.drop_all)
    await db.close()


async def create_table(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(TALLY.metadata.create_all)


async def written(database: Database) -> list[tuple[int, int]]:
    async with database.transaction() as session:
        return [tuple(row) for row in await session.execute(select(TALLY.c.id, TALLY.c.n).order_by(TALLY.c.id))]


async def test_facts_are_kept_until_the_database_takes_them(database: Database) -> None:
    facts = Facts(database)
    for n in range(3):
        facts.record(TALLY, {"id": n, "n": n * 10})
    await facts.flush()  # no table yet: refused, kept
    await create_table(database)
    facts.record(TALLY, {"id": 1, "n": 99})  # the same fact again: written once
    await facts.flush()
    assert await written(database) == [(0, 0), (1, 10), (2, 20)]
    await facts.close()


async def test_a_refused_row_is_dropped_alone_and_the_rest_written_at_close(database: Database) -> None:
    await create_table(database)
    facts = Facts(database)
    facts.record(TALLY, {"id": 1, "n": 1})
    facts.record(TALLY, {"id": 2, "n": None})  # NOT NULL: the database refuses this one
    facts.record(TALLY, {"id": 3, "n": 3})
    await facts.close()
    assert await written(database) == [(1, 1), (3, 3)]


async def test_many_facts_recorded_at_once_are_all_written(database: Database) -> None:
    await create_table(database)
    facts = Facts(database)
    for n in range(2500):
        facts.record(TALLY, {"id": n, "n": n})
    await facts.flush()
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(TALLY)) == 2500
    await facts.close()


async def test_a_lasting_fact_is_ended_whether_or_not_its_row_was_written_yet(database: Database) -> None:
    await create_table(database)
    facts = Facts(database)
    facts.record(TALLY, {"id": 1, "n": 0})
    facts.amend(TALLY, 1, {"n": 10})  # still waiting: changed in the row itself
    facts.record(TALLY, {"id": 2, "n": 0})
    await facts.flush()
    facts.amend(TALLY, 2, {"n": 20})  # written: changed by its key in the next batch
    facts.amend(TALLY, 3, {"n": 30})  # never recorded here: changes nothing
    await facts.close()
    assert await written(database) == [(1, 10), (2, 20)]


async def test_an_end_waits_with_its_fact_while_the_database_refuses_them(database: Database) -> None:
    facts = Facts(database)
    facts.record(TALLY, {"id": 1, "n": 0})
    await facts.flush()  # no table yet: kept
    facts.amend(TALLY, 1, {"n": 10})
    await facts.flush()  # refused again: the row and its end both kept, the end after the row
    await create_table(database)
    await facts.close()
    assert await written(database) == [(1, 10)]
