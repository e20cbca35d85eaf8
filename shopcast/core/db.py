"""Database engine, declarative base and transactions, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

from shopcast.core.errors import Busy
from shopcast.core.sqlite_writes import take_turns

# Stable constraint names, so Alembic migrations read the same on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


SQLITE_BUSY_SECONDS = 30
"""How long a write waits for SQLite's lock (held by another writer) before it is refused."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; SQLite keeps no offset, so we store UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def create_engine(url: str, *, pool_size: int = 5, pool_timeout: float = 30) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout. It keeps `pool_size`
    connections and no more (a PostgreSQL connection opened for a burst and closed after it costs
    the server a new backend process each time, which is slower than waiting for a free one); a
    transaction that waits `pool_timeout` seconds for one is refused as busy (`Database.transaction`)."""
    pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **pool)
        take_turns(engine, SQLITE_BUSY_SECONDS)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **pool)


AfterCommit = Callable[[], Awaitable[Any]]
BUSY_RETRY_SECONDS = 5


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run `action` once the surrounding transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(action)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed if the block succeeds, rolled back otherwise."""
        async with self.sessions() as session:
            try:
                async with session.begin():
                    yield session
            except PoolTimeout:
                # Every connection stayed busy for the pool's whole wait (a rush beyond what the
                # database keeps up with): the client is told to come back, not that we crashed.
                raise Busy("errors.busy", retry_after=BUSY_RETRY_SECONDS) from None
            for action in session.info.pop("after_commit", []):
                await action()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def insert_for(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which has ON CONFLICT (both have it, with `excluded` for the new row)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The database's INSERT … ON CONFLICT."""
    return insert_for(dialect_of(session), table)


def insert_ignoring_duplicates(session: AsyncSession, table: Table) -> Insert:
    """An INSERT that skips rows colliding with a unique constraint, on either database."""
    return upsert(session, table).on_conflict_do_nothing()
