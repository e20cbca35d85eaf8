"""The outbox worker's sweeps: each runs every `sweep_seconds` on the app's clock, what it queues is sent
with the rest, and one that fails is said once, tried again, and keeps none of the others from running;
the worker of the app and of `shopcast worker` runs them all and sends every kind."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

import pytest

from shopcast.accounts import service as accounts
from shopcast.catalog import abandoned
from shopcast.contests import winner_emails
from shopcast.core.db import Database
from shopcast.core.settings import Settings
from shopcast.outbox import service as outbox
from shopcast.outbox.schemas import Outgoing
from shopcast.outbox.senders import outbox_worker
from shopcast.outbox.worker import OutboxWorker, Retries
from shopcast.reminders import sweep as reminders
from tests.conftest import SettableClock
from tests.factories import Factory


class Keeping:
    """A sender that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> str:
        self.sent.append(message)
        return "kept"

    async def close(self) -> None:
        """Nothing to close."""


async def test_a_failing_sweep_is_said_once_and_the_others_still_queue_what_comes_due(
    database: Database, factory: Factory, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    await factory.brand("acme")
    async with database.transaction() as session:
        brand_id = (await accounts.get_brand(session, slug="acme")).id
    seen: list[datetime] = []

    async def failing(*, now: datetime) -> None:
        seen.append(now)
        raise RuntimeError("the sweep's database is away")

    async def queuing(*, now: datetime) -> None:
        async with database.transaction() as session:
            await outbox.add(
                session, kind="email", brand_id=brand_id, topic="due", recipient="lea@example.com", payload={}, now=now
            )

    keeping = Keeping()
    worker = OutboxWorker(
        database,
        {"email": keeping},
        clock=clock,
        retries={"email": Retries(max_attempts=3, first_seconds=60, max_seconds=3600)},
        poll_seconds=0.01,
        sweeps=[failing, queuing],
        sweep_seconds=0.05,
    )
    with caplog.at_level(logging.WARNING, logger="shopcast.outbox.worker"):
        worker.start()
        deadline = time.monotonic() + 10
        while len(keeping.sent) < 3:
            assert time.monotonic() < deadline, "the sweeps' messages were not sent"
            await asyncio.sleep(0.01)
        await worker.stop()
    assert len(seen) >= 3 and set(seen) == {clock.now()}  # on the app's clock
    said = [r.getMessage() for r in caplog.records if "sweep" in r.getMessage()]
    assert len(said) == 1 and "failing" in said[0], said


async def test_the_worker_of_the_app_and_of_shopcast_worker_sweeps_and_sends_emails_and_webhooks(
    database: Database, settings: Settings, clock: SettableClock
) -> None:
    worker = outbox_worker(settings, database, clock)  # as the app factory and `shopcast worker` make it
    try:
        assert set(worker.senders) == set(worker.retries) == {"email", "webhook"}
        assert worker.retries["webhook"].max_attempts == len(settings.webhooks_retry_seconds) + 1
        assert [getattr(sweep, "func", None) for sweep in worker.sweeps] == [
            reminders.sweep,
            abandoned.sweep,
            winner_emails.sweep,
        ]
        assert worker.sweep_seconds == settings.outbox_sweep_seconds
    finally:
        await worker.stop()
