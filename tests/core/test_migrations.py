"""The same migrations build the same schema on SQLite and PostgreSQL, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shopcast.core import migrate
from shopcast.core.db import Database, create_engine


async def schema_differences(database: Database) -> list:
    async with database.engine.connect() as connection:
        return await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), migrate.metadata())
        )


async def test_migrations_match_the_models_and_round_trip(database_url: str) -> None:
    database = Database(create_engine(database_url))
    try:
        assert not await migrate.pending(database.engine)
        assert await schema_differences(database) == []
        await migrate.downgrade(database.engine, "base")
        assert await migrate.pending(database.engine)
        await migrate.upgrade(database.engine)
        assert not await migrate.pending(database.engine)
        assert await schema_differences(database) == []
    finally:
        await database.close()
