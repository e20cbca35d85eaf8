"""Applying Alembic migrations from Shopcast itself: the CLI, the server start and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def metadata() -> MetaData:
    """Every domain's tables (imported here so Alembic sees them all)."""
    import shopcast.accounts.models
    import shopcast.catalog.models
    import shopcast.chat.models
    import shopcast.contests.models
    import shopcast.live.models
    import shopcast.outbox.models
    import shopcast.polls.models
    import shopcast.reminders.models
    import shopcast.webhooks.models  # noqa: F401
    from shopcast.core.db import Base

    return Base.metadata


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(config(c), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.downgrade(config(c), revision))


async def pending(engine: AsyncEngine) -> bool:
    """True when the database is behind the newest migration."""

    def check(connection: Connection) -> bool:
        current = MigrationContext.configure(connection).get_current_heads()
        return set(current) != set(ScriptDirectory.from_config(config()).get_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(check)
