"""The outbox worker: claims due messages, hands each to the sender of its kind, records the outcome.

A sender is any object with `send(message) -> str` and `close()` (the `Sender` protocol), registered
under the message kind it delivers (`shopcast.outbox.senders`): the worker knows no kind. `send`
returns what the receiver answered (kept with the attempt; a `Delivered` to keep an HTTP status too)
or raises `SendFailed`; any other exception is a failed attempt too. A failed message is tried again
after the wait its kind's retry policy gives (`Retries`: exponential back-off with jitter, the emails';
`RetrySchedule`: fixed steps, the webhooks'), or later when the receiver asked for that (Retry-After),
and given up (dead) after the policy's `max_attempts` or a permanent refusal. A replay (a message sent
again on request, with the same id) starts its retries over.

One recipient (an email address, a webhook endpoint) takes at most a quarter of a batch at a time:
a slow or failing one never holds every place of the batch, and the others' messages go meanwhile.

The only window for a duplicate is between the receiver's acceptance and the commit that records it
(a crash there, or a claim that ran out meanwhile): the message is then sent again with the same id.

Sweeps are the worker's other job: every `sweep_seconds` it runs each one (`sweep(now=…)`), which queues
the messages that have come due since (a reminder before an episode, a cart's follow-up), then sends
them with the rest. A sweep claims what it queues in the same transaction, so workers running together
never both queue it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.outbox import service
from shopcast.outbox.schemas import Outgoing

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0  # sends in flight when the worker stops may finish within this
# Outcomes recorded at the same time: in the app process the worker shares the database pool with
# requests, and a batch finishing together must not take every connection.
RECORDING_CONNECTIONS = 2


# The longest a receiver's Retry-After is followed: past it the message comes back anyway.
LONGEST_RETRY_AFTER_SECONDS = 24 * 3600.0


class SendFailed(Exception):
    """The message did not get through; `permanent`: trying again cannot help (an unknown recipient);
    `status_code`: what an HTTP receiver answered; `retry_after`: the seconds it asked us to wait."""

    def __init__(
        self,
        detail: str,
        *,
        permanent: bool = False,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass(frozen=True)
class Delivered:
    """The receiver's answer to a message it accepted, with its HTTP status."""

    detail: str
    status_code: int | None = None


class Sender(Protocol):
    async def send(self, message: Outgoing) -> str | Delivered:
        """Deliver the message (the same `message.id` on every attempt); return the receiver's answer."""
        ...

    async def close(self) -> None:
        """Release connections and files (the worker stops)."""
        ...


class RetryPolicy(Protocol):
    """How often and how long a kind of message is tried."""

    @property
    def max_attempts(self) -> int: ...

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after attempt number `attempt` (from 1) failed."""
        ...


class Sweep(Protocol):
    def __call__(self, *, now: datetime) -> Awaitable[object]:
        """Queue what has come due at `now` (the app's clock), in transactions of its own."""
        ...


@dataclass(frozen=True)
class Retries:
    """When a failed message is tried again: `first_seconds` after the first attempt, doubling up to
    `max_seconds`, each wait drawn between half and all of that (jitter), so messages that failed
    together (a server down) do not all come back at once."""

    max_attempts: int
    first_seconds: float
    max_seconds: float

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after attempt number `attempt` (from 1) failed."""
        ceiling = min(self.max_seconds, self.first_seconds * 2 ** min(attempt - 1, 60))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


@dataclass(frozen=True)
class RetrySchedule:
    """Fixed waits between attempts, one after each failed attempt (the Standard Webhooks schedule:
    5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), each drawn within a tenth of its value (jitter);
    given up after the last."""

    waits: tuple[float, ...]

    @property
    def max_attempts(self) -> int:
        return len(self.waits) + 1

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        wait = self.waits[min(attempt, len(self.waits)) - 1]
        return wait * (rng or random).uniform(0.9, 1.1)


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


class OutboxWorker:
    """Sends the outbox with `senders` and retries with `retries` (both by message kind); `start()` in the
    background, `stop()` to end."""

    def __init__(
        self,
        database: Database,
        senders: Mapping[str, Sender],
        *,
        clock: Clock,
        retries: Mapping[str, RetryPolicy],
        batch_size: int = 20,
        poll_seconds: float = 1.0,
        claim_seconds: float = 300.0,
        sweeps: Sequence[Sweep] = (),
        sweep_seconds: float = 10.0,
    ) -> None:
        if missing := set(senders) - set(retries):
            raise ValueError(f"no retry policy for {', '.join(sorted(missing))}")
        self.database = database
        self.senders = dict(senders)
        self.clock = clock
        self.retries = dict(retries)
        self.batch_size = batch_size
        self.per_recipient = max(1, batch_size // 4)
        self.poll_seconds = poll_seconds
        self.claim = timedelta(seconds=claim_seconds)
        self.name = worker_name()
        self._sending: dict[asyncio.Task[None], Outgoing] = {}
        self._recording = asyncio.Semaphore(RECORDING_CONNECTIONS)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unreachable = False  # the database did not answer the last claim
        self.sweeps = list(sweeps)
        self.sweep_seconds = sweep_seconds
        self._next_sweep = 0.0  # on the monotonic clock: the first loop sweeps
        self._sweep_failing: set[int] = set()  # sweeps whose last run failed (said once per failure)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-worker")

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Claim nothing more, let the sends in flight finish (up to `grace_seconds`), give back the rest."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        for sender in self.senders.values():
            with contextlib.suppress(Exception):
                await sender.close()

    async def run(self) -> None:
        """Claim and send until stopped."""
        try:
            while not self._stopping.is_set():
                await self._sweep()
                room = self.batch_size - len(self._sending)
                claimed = await self._claim(room) if room > 0 else []
                for message in claimed:
                    self._sending[asyncio.create_task(self._deliver(message))] = message
                if room > 0 and len(claimed) == room:
                    continue  # a full batch: there may be more due, as soon as a send finishes
                stopping = asyncio.ensure_future(self._stopping.wait())
                try:
                    await asyncio.wait(
                        [*self._sending, stopping], timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    stopping.cancel()
            if self._sending:
                await asyncio.wait(list(self._sending))
        finally:
            await self._give_back()

    async def _sweep(self) -> None:
        """Run the sweeps once they are due: what comes due meanwhile is queued at the next one."""
        if not self.sweeps or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.sweep_seconds
        for number, sweep in enumerate(self.sweeps):
            try:
                await sweep(now=self.clock.now())
            except Exception:
                # Tried again at the next sweep; said once until it works again.
                if number not in self._sweep_failing:
                    log.warning("outbox: sweep %s failed; trying again every sweep", _name(sweep), exc_info=True)
                self._sweep_failing.add(number)
            else:
                if number in self._sweep_failing:
                    log.warning("outbox: sweep %s works again", _name(sweep))
                self._sweep_failing.discard(number)

    async def _claim(self, limit: int) -> list[Outgoing]:
        now = self.clock.now()
        claimed_by = f"{self.name}:{uuid.uuid4().hex[:8]}"
        try:
            async with self.database.transaction() as session:
                claimed = await service.claim(
                    session,
                    max_attempts={kind: self.retries[kind].max_attempts for kind in self.senders},
                    claimed_by=claimed_by,
                    limit=limit,
                    now=now,
                    until=now + self.claim,
                    per_recipient=self.per_recipient,
                    busy=Counter(message.recipient for message in self._sending.values()),
                )
        except Exception:
            # The database is away (a restart, a network cut): try again at the next poll, and say
            # so once per outage rather than at every poll.
            if not self._unreachable:
                log.warning("outbox: cannot claim messages; trying again every poll", exc_info=True)
            self._unreachable = True
            return []
        if self._unreachable:
            log.warning("outbox: claiming messages again")
            self._unreachable = False
        return claimed

    async def _deliver(self, message: Outgoing) -> None:
        started = time.monotonic()
        error: SendFailed | None = None
        answer = Delivered("")
        try:
            answered = await self.senders[message.kind].send(message)
            answer = answered if isinstance(answered, Delivered) else Delivered(answered)
        except SendFailed as exc:
            error = exc
        except Exception as exc:
            log.warning("outbox: %s %s failed", message.kind, message.id, exc_info=True)
            error = SendFailed(f"{type(exc).__name__}: {exc}")
        duration_ms = round((time.monotonic() - started) * 1000)
        now = self.clock.now()
        try:
            async with self._recording, self.database.transaction() as session:
                if error is None:
                    held = await service.mark_sent(
                        session,
                        message=message,
                        detail=answer.detail,
                        now=now,
                        duration_ms=duration_ms,
                        status_code=answer.status_code,
                    )
                else:
                    retry_at = self._retry_at(message, error, now)
                    held = await service.mark_failed(
                        session,
                        message=message,
                        error=error.detail,
                        retry_at=retry_at,
                        now=now,
                        duration_ms=duration_ms,
                        status_code=error.status_code,
                    )
                    if retry_at is None:
                        log.warning("outbox: gave up %s %s: %s", message.kind, message.id, error.detail)
        except Exception:
            # Not recorded: the claim runs out and the message is sent again (with the same id).
            log.warning("outbox: cannot record the outcome of %s %s", message.kind, message.id, exc_info=True)
            return
        finally:
            self._sending.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        if not held:
            log.warning("outbox: %s %s was claimed again before its outcome was recorded", message.kind, message.id)

    def _retry_at(self, message: Outgoing, error: SendFailed, now: datetime) -> datetime | None:
        """When the failed message is tried again; None: given up."""
        policy = self.retries[message.kind]
        if error.permanent or message.attempt_since_replay >= policy.max_attempts:
            return None
        wait = policy.delay(message.attempt_since_replay)
        if error.retry_after is not None:
            wait = max(wait, min(error.retry_after, LONGEST_RETRY_AFTER_SECONDS))
        return now + timedelta(seconds=wait)

    async def _give_back(self) -> None:
        """Messages whose send was cut off (the worker was cancelled): due again at once."""
        unfinished = list(self._sending.values())
        for task in self._sending:
            task.cancel()
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        self._sending.clear()
        if not unfinished:
            return
        with contextlib.suppress(Exception):
            async with self.database.transaction() as session:
                await service.release(session, messages=unfinished, now=self.clock.now())


def _name(sweep: Sweep) -> str:
    function = getattr(sweep, "func", sweep)  # a functools.partial names its function
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', repr(function))}"
