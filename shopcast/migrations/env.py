"""Alembic environment.

Shopcast hands it a connection (see shopcast.core.migrate); run by the `alembic` command
(developers writing a migration), it connects to SHOPCAST_DATABASE_URL or the data folder.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from shopcast.core.db import UTCDateTime
from shopcast.core.migrate import metadata


def render_item(kind: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations stay plain SQLAlchemy: our UTC column type is a timezone-aware DateTime.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from shopcast.core.db import create_engine
    from shopcast.core.settings import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(run)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    asyncio.run(run_from_settings())
