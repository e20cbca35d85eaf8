"""Shared fixtures: the real app on real databases and buses.

Database tests run on SQLite and PostgreSQL, bus tests on the in-process bus and Redis.
Without the services those variants skip with the reason; with CI=true they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis as redis_sync
import redis.asyncio as redis_async
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from shopcast.core import migrate, security
from shopcast.core.db import Database, create_engine
from shopcast.core.settings import Settings
from shopcast.web.app import create_app
from tests import stuck

CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_DSN = os.environ.get("SHOPCAST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SHOPCAST_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-key-that-is-long-enough-for-hs256"
# Before the October 2026 DST change in Europe, so schedules in tests cross it.
DEFAULT_NOW = datetime(2026, 9, 20, 10, 0, tzinfo=UTC)


CONSOLE = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[CONSOLE] = os.dup(2)  # before pytest captures it, for tests/stuck.py


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    # pytest-timeout ends a stuck test's process (pyproject.toml); at four fifths of its time, what
    # the test was awaiting goes to the console (tests/stuck.py).
    with stuck.Watch(item.nodeid, float(item.config.getini("timeout") or 300) * 0.8, item.config.stash[CONSOLE]):
        return (yield)


def service_missing(name: str, error: BaseException) -> None:
    reason = f"{name} is not reachable ({type(error).__name__}: {error})"
    if CI:
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(reason)


class SettableClock:
    """The app's clock in tests: starts at DEFAULT_NOW and moves only when told."""

    def __init__(self, at: datetime = DEFAULT_NOW) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


# --- databases ---------------------------------------------------------------------------


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _migrate_url(url: str) -> None:
    database = Database(create_engine(url))
    try:
        await migrate.upgrade(database.engine)
    finally:
        await database.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "shopcast.db"
    _run(_migrate_url(f"sqlite+aiosqlite:///{path}"))
    return path


@dataclass
class PostgresServer:
    admin_dsn: str
    url: str | None = None
    error: BaseException | None = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One migrated database for the session; each test starts from empty tables."""
    server = PostgresServer(POSTGRES_DSN)
    name = f"shopcast_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    try:
        _run(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        server.error = exc
        yield server
        return
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    server.url = f"{base}/{name}"
    _run(_migrate_url(server.url))
    yield server

    _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str, dsn: str = POSTGRES_DSN) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _empty_postgres(url: str) -> None:
    tables = [t.name for t in migrate.metadata().sorted_tables]
    connection = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=5)
    try:
        # A connection a previous test left in a transaction would make TRUNCATE wait for ever:
        # fail in seconds instead, naming what holds the tables.
        await connection.execute("SET lock_timeout = '20s'")
        try:
            await connection.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        except asyncpg.LockNotAvailableError as exc:
            holders = await connection.fetch(
                "SELECT pid, state, xact_start, left(query, 200) AS query FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            raise RuntimeError(f"emptying the test database waited 20 s for: {[dict(h) for h in holders]}") from exc
    finally:
        await connection.close()


async def fresh_database(kind: str, tmp_path: Path, sqlite_template: Path, postgres_server: PostgresServer) -> str:
    """The URL of an empty, migrated database of this kind."""
    if kind == "sqlite":
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        shutil.copy(sqlite_template, data / "shopcast.db")
        return f"sqlite+aiosqlite:///{data / 'shopcast.db'}"
    if postgres_server.url is None:
        service_missing("PostgreSQL", postgres_server.error or RuntimeError("unknown"))
    assert postgres_server.url is not None
    await _empty_postgres(postgres_server.url)
    return postgres_server.url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_server: PostgresServer
) -> str:
    return await fresh_database(request.param, tmp_path, sqlite_template, postgres_server)


# --- buses -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_available() -> BaseException | None:
    client = redis_sync.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
        return None
    except redis_sync.RedisError as exc:
        return exc
    finally:
        client.close()


@pytest.fixture(params=["in-process", "redis"])
def redis_url(request: pytest.FixtureRequest, redis_available: BaseException | None) -> str | None:
    """None for the in-process bus, or a reachable Redis."""
    if request.param == "in-process":
        return None
    if redis_available is not None:
        service_missing("Redis", redis_available)
    return REDIS_URL


@pytest.fixture
def redis_only_url(redis_available: BaseException | None) -> str:
    """A reachable Redis, for tests of what only Redis does (several processes)."""
    if redis_available is not None:
        service_missing("Redis", redis_available)
    return REDIS_URL


# Keys looked at per SCAN call: a few round trips even when Redis holds a great many keys of others
# (a benchmark's, an app's running beside the tests); SCAN's default of 10 made that thousands.
SCAN_COUNT = 1000


async def keys_under(redis: redis_async.Redis, prefix: str) -> set[bytes]:
    """Every key in Redis under `prefix`."""
    return {key async for key in redis.scan_iter(f"{prefix}*", count=SCAN_COUNT)}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own, deleted afterwards, so tests never see each other's keys."""
    prefix = f"shopcast-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis_sync.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        keys = list(client.scan_iter(f"{prefix}*", count=SCAN_COUNT))
        if keys:
            client.delete(*keys)
    except redis_sync.RedisError:
        pass
    finally:
        client.close()


# --- the app -----------------------------------------------------------------------------

BACKENDS = {"sqlite+in-process": ("sqlite", "in-process"), "postgresql+redis": ("postgresql", "redis")}


@pytest.fixture(params=list(BACKENDS))
async def backend(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_server: PostgresServer,
    redis_available: BaseException | None,
    redis_prefix: str,
) -> dict[str, Any]:
    """Settings for the embedded default (SQLite, in-process) and the scaled-out one (PostgreSQL, Redis)."""
    db_kind, bus_kind = BACKENDS[request.param]
    url = await fresh_database(db_kind, tmp_path, sqlite_template, postgres_server)
    redis = None
    if bus_kind == "redis":
        if redis_available is not None:
            service_missing("Redis", redis_available)
        redis = REDIS_URL
    return {"database_url": url, "redis_url": redis, "redis_prefix": redis_prefix}


def make_settings(tmp_path: Path, **changes: Any) -> Settings:
    # WebRTC on loopback only: no ICE server, 127.0.0.1 gathered, only loopback peers accepted.
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "secret_key": SECRET,
        "ice_servers": [],
        "webrtc_hosts": ["127.0.0.1"],
        "webrtc_peer_networks": ["127.0.0.0/8"],
        "publisher_grace_seconds": 1.0,
        # The outbox is sent only in the tests about it (tests/emails), by a worker they set up.
        "outbox_worker": False,
        # Each join's ack reads the room as it is now, so a test reads a change in the next join's
        # snapshot; tests/web/test_join_batches.py shares snapshots between joins as production does.
        "join_snapshot_seconds": 0.0,
    }
    values.update(changes)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, **backend)


class NoDns(AbstractResolver):
    """The tests' DNS for webhook endpoints: it knows no name and asks no server (tests talk to 127.0.0.1
    only, and a webhook address is looked up when it is saved)."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise socket.gaierror(socket.EAI_NONAME, f"{host}: the tests look no name up")

    async def close(self) -> None:
        pass


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, clock: SettableClock) -> AsyncIterator[TestClient]:
    """The real app, through HTTP."""
    test_client = await aiohttp_client(create_app(settings, clock=clock, resolver=NoDns()))
    yield test_client
    # Shut down here, not in aiohttp_client's own teardown: that comes after the test's Redis keys
    # are deleted (`redis_prefix`), and what the app writes as it stops would outlive the test.
    await test_client.close()


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Direct access to the test's database, for arranging data through the services."""
    db = Database(create_engine(settings.effective_database_url))
    yield db
    await db.close()


@pytest.fixture
async def factory(client: TestClient, database: Database, clock: SettableClock) -> Any:
    from tests.factories import Factory

    return Factory(client, database, clock.now())


@pytest.fixture
def node_environment() -> dict[str, str]:
    """Settings of a test's own for the app processes it starts (tests/chat/test_two_nodes.py); a module may
    override this fixture."""
    return {}


async def until_healthy(*urls: str) -> None:
    """Wait (a minute at most) until each app process at `urls` answers /healthz with 200."""
    async with aiohttp.ClientSession() as http:
        for url in urls:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with http.get(f"{url}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.2)


async def serve_node(aiohttp_client: Any, settings: Settings, clock: SettableClock | None = None) -> TestClient:
    """An app process on Redis as `shopcast serve` runs one: its public port (the test client's) and its
    internal listener, where the other processes pull a show's video from and pass on session requests."""
    from aiohttp import web

    from shopcast.web.server import internal_listener

    app = create_app(settings, clock=clock, resolver=NoDns())
    internal = internal_listener(app, settings)
    assert internal is not None, "an app process has an internal listener only with SHOPCAST_REDIS_URL"
    client = await aiohttp_client(app)
    await web.SockSite(client.server.runner, internal).start()
    client.internal_port = internal.getsockname()[1]  # type: ignore[attr-defined]
    return client


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """Argon2 at its real cost takes about 0.15 s a hash or a check, and the suite signs in thousands
    of staff: the tests hash with the lightest argon2id parameters, through the same code."""
    light = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", light)
        patch.setattr(security, "_DUMMY_HASH", light.hash("shopcast-no-such-user"))
        yield
