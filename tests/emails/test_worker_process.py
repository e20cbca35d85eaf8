"""`shopcast worker` as its own process: killed with SIGKILL in the middle of a batch and started
again, every email arrives, and only those it held when it died may arrive twice (the server had
taken them, the worker had not yet recorded it). On PostgreSQL two workers share a batch, each email
sent once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopcast.accounts import service as accounts
from shopcast.core.db import Database, create_engine
from shopcast.outbox import service as outbox
from shopcast.outbox.schemas import MessageOut
from tests.conftest import SECRET
from tests.emails.conftest import eventually
from tests.emails.smtp_server import SmtpServer

CLAIM_SECONDS = 3  # how long the restarted worker waits for the dead one's claims


def email(number: int) -> dict[str, Any]:
    """A queued email as `emails.service.queue` writes one."""
    return {
        "to": f"buyer{number}@example.com",
        "to_name": f"Buyer {number}",
        "from_name": "Acme",
        "language": "en",
        "subject": f"Email {number}",
        "text": f"Hello buyer {number}",
        "html": f"<p>Hello buyer {number}</p>",
    }


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(create_engine(database_url))
    async with db.transaction() as session:
        await accounts.create_brand(session, slug="acme", name="Acme", now=datetime.now(UTC))
    yield db
    await db.close()


async def queue(database: Database, count: int) -> list[uuid.UUID]:
    """`count` emails queued in one transaction, as a burst of orders would."""
    async with database.transaction() as session:
        brand = await accounts.get_brand(session, slug="acme")
        now = datetime.now(UTC)
        return [
            await outbox.add(
                session,
                kind="email",
                brand_id=brand.id,
                topic="test",
                recipient=f"buyer{n}@example.com",
                payload=email(n),
                now=now,
            )
            for n in range(count)
        ]


async def messages(database: Database) -> list[MessageOut]:
    async with database.transaction() as session:
        brand = await accounts.get_brand(session, slug="acme")
        return await outbox.list_messages(session, brand_id=brand.id, kind="email", limit=500)


def all_sent(database: Database, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        found = await messages(database)
        return len(found) == count and all(m.state == "sent" for m in found)

    return check


Start = Callable[[str], Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def start_worker(database_url: str, smtp: SmtpServer, tmp_path: Path) -> AsyncIterator[Start]:
    """`shopcast worker` in a process of its own, once it says it is sending."""
    started: list[asyncio.subprocess.Process] = []
    env = {
        **os.environ,
        "SHOPCAST_DATA_DIR": str(tmp_path / "data"),
        "SHOPCAST_SECRET_KEY": SECRET,
        "SHOPCAST_DATABASE_URL": database_url,
        "SHOPCAST_SMTP_URL": smtp.url,
        "SHOPCAST_SMTP_TIMEOUT_SECONDS": "2",
        "SHOPCAST_WEBHOOKS_TIMEOUT_SECONDS": "2",
        "SHOPCAST_OUTBOX_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "SHOPCAST_OUTBOX_BATCH_SIZE": "5",
        "SHOPCAST_OUTBOX_POLL_SECONDS": "0.05",
        "SHOPCAST_OUTBOX_RETRY_SECONDS": "1",
    }

    async def start(name: str) -> asyncio.subprocess.Process:
        out = tmp_path / f"{name}.out"
        with out.open("wb") as stdout, (tmp_path / f"{name}.err").open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shopcast", "worker", env=env, stdout=stdout, stderr=stderr
            )
        started.append(process)
        deadline = time.monotonic() + 60
        while b"is sending the outbox" not in out.read_bytes():
            problem = (tmp_path / f"{name}.err").read_text()
            assert process.returncode is None and time.monotonic() < deadline, f"{name} did not start: {problem}"
            await asyncio.sleep(0.05)
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_what_it_held(
    database: Database, smtp: SmtpServer, start_worker: Start
) -> None:
    smtp.delay = 0.3  # slow to answer: the server has an email before the worker knows it
    ids = await queue(database, 30)
    first = await start_worker("first")
    await smtp.wait_for(8, within=60)
    first.kill()
    await first.wait()
    held = {f"<{m.id}@localhost>" for m in await messages(database) if m.state == "sending"}
    assert held, "the worker died holding nothing: it was not killed mid-batch"
    arrived_before_restart = len(smtp.received)

    second = await start_worker("second")
    await eventually(all_sent(database, len(ids)), within=60)
    await stop(second)

    copies = smtp.copies()
    assert set(copies) == {f"<{i}@localhost>" for i in ids}  # nothing lost
    assert max(copies.values()) <= 2
    twice = {message_id for message_id, count in copies.items() if count == 2}
    assert twice <= held, "an email arrived twice that the dead worker was not sending"
    assert len(smtp.received) == len(ids) + len(twice) and arrived_before_restart < len(ids)


async def test_a_worker_stopped_with_sigterm_finishes_what_it_is_sending(
    database: Database, smtp: SmtpServer, start_worker: Start
) -> None:
    smtp.delay = 0.3
    ids = await queue(database, 12)
    worker = await start_worker("worker")
    await smtp.wait_for(3, within=60)
    await stop(worker)
    # What it had taken is recorded: nothing is left held for a claim to run out.
    found = await messages(database)
    assert not [m for m in found if m.state == "sending"]
    sent = {f"<{m.id}@localhost>" for m in found if m.state == "sent"}
    assert sent == set(smtp.copies()) and max(smtp.copies().values()) == 1

    again = await start_worker("again")
    await eventually(all_sent(database, len(ids)), within=60)
    await stop(again)
    assert set(smtp.copies()) == {f"<{i}@localhost>" for i in ids} and max(smtp.copies().values()) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_share_a_batch_on_postgresql_without_doubles(
    database: Database, smtp: SmtpServer, start_worker: Start
) -> None:
    smtp.delay = 0.05
    workers = [await start_worker("one"), await start_worker("two")]
    ids = await queue(database, 60)
    await eventually(all_sent(database, len(ids)), within=60)
    for worker in workers:
        await stop(worker)

    copies = smtp.copies()
    assert set(copies) == {f"<{i}@localhost>" for i in ids} and set(copies.values()) == {1}
    async with database.transaction() as session:
        attempts = [a for i in ids for a in await outbox.list_attempts(session, message_id=i)]
    assert len(attempts) == len(ids) and all(a.ok for a in attempts)
    by_process = {a.worker.rsplit(":", 1)[0] for a in attempts}
    assert len(by_process) == 2, "one worker sent everything: the batch was not shared"
