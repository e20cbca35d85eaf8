"""The outbox's use cases: queue a message in the caller's transaction; claim due messages; record
each attempt's outcome; list a brand's messages.

A claim is a short transaction of its own: the due messages are locked (PostgreSQL: `FOR UPDATE
SKIP LOCKED`, so workers running together each take other rows; SQLite has one writer at a time and
the UPDATE re-checks that each row is still due) and marked `sending` until the claim's end, kept in
`next_try_at`. Sending happens outside any transaction; its outcome is written by the claim's holder
only. A worker that dies leaves its messages `sending`: once the claim ends they are due again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from shopcast.core.ids import new_id
from shopcast.outbox.models import OutboxAttempt, OutboxMessage
from shopcast.outbox.schemas import AttemptOut, MessageKind, MessageOut, MessageState, Outgoing

# Tried again when due: never tried, failed, or held by a claim that ran out (its worker stopped).
RETRIED = ("pending", "failed", "sending")
INTERRUPTED = "interrupted: the worker stopped before the attempt finished"
DETAIL_LENGTH = 1000


async def add(
    session: AsyncSession,
    *,
    kind: MessageKind,
    brand_id: uuid.UUID,
    topic: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    about: str | None = None,
) -> uuid.UUID:
    """Queue a message in the caller's transaction: sent once it commits, never if it rolls back."""
    message_id = new_id()
    await session.execute(
        insert(OutboxMessage).values(
            id=message_id,
            kind=kind,
            brand_id=brand_id,
            topic=topic,
            recipient=recipient,
            about=about,
            payload=payload,
            state="pending",
            attempts=0,
            next_try_at=now,
            created_at=now,
        )
    )
    return message_id


async def withdraw(session: AsyncSession, *, brand_id: uuid.UUID, recipient: str, topics: Sequence[str]) -> int:
    """Take back the brand's messages of these topics to `recipient` that no worker has sent nor holds
    (the recipient asked for no more); how many."""
    withdrawn = await session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.brand_id == brand_id,
            OutboxMessage.recipient == recipient,
            OutboxMessage.topic.in_(topics),
            OutboxMessage.state.in_(("pending", "failed")),
        )
        .execution_options(synchronize_session=False)
    )
    return withdrawn.rowcount  # type: ignore[attr-defined,no-any-return]


def _attempts_left(max_attempts: Mapping[str, int]) -> ColumnElement[bool]:
    """The message's kind allows it another attempt (counted since it was queued or last replayed)."""
    made = OutboxMessage.attempts - OutboxMessage.attempts_at_replay
    return or_(*((OutboxMessage.kind == kind) & (made < most) for kind, most in max_attempts.items()))


def _due(now: datetime, max_attempts: Mapping[str, int]) -> ColumnElement[bool]:
    return OutboxMessage.state.in_(RETRIED) & (OutboxMessage.next_try_at <= now) & _attempts_left(max_attempts)


def _fair_share(due: ColumnElement[bool], per_recipient: int | None, busy: Mapping[str, int]) -> ColumnElement[bool]:
    """Due, and among the first `per_recipient` of its recipient's, less those the worker is sending."""
    if per_recipient is None:
        return due
    rank = (
        func.row_number()
        .over(partition_by=OutboxMessage.recipient, order_by=(OutboxMessage.next_try_at, OutboxMessage.id))
        .label("rank")
    )
    ranked = select(OutboxMessage.id, OutboxMessage.recipient, rank).where(due).subquery()
    room: Any = per_recipient
    if busy:
        room = case({r: per_recipient - n for r, n in busy.items()}, value=ranked.c.recipient, else_=per_recipient)
    return OutboxMessage.id.in_(select(ranked.c.id).where(ranked.c.rank <= room))


async def claim(
    session: AsyncSession,
    *,
    max_attempts: Mapping[str, int],
    claimed_by: str,
    limit: int,
    now: datetime,
    until: datetime,
    per_recipient: int | None = None,
    busy: Mapping[str, int] | None = None,
) -> list[Outgoing]:
    """Take up to `limit` due messages of the kinds in `max_attempts` (each kind's most attempts) for one
    worker until `until`, oldest due first; at most `per_recipient` to one recipient, counting the `busy`
    ones the worker is still sending."""
    # A message whose last allowed attempt was cut short (its worker died, perhaps because of it) is given up.
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == "sending",
            OutboxMessage.next_try_at <= now,
            OutboxMessage.kind.in_(max_attempts),
            ~_attempts_left(max_attempts),
        )
        .values(state="dead", claimed_by=None, last_error=INTERRUPTED)
    )
    due = _due(now, max_attempts)
    ids = list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(_fair_share(due, per_recipient, busy or {}))
            .order_by(OutboxMessage.next_try_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    rows = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due)
        .values(
            state="sending",
            attempts=OutboxMessage.attempts + 1,
            claimed_by=claimed_by,
            next_try_at=until,
            last_error=case((OutboxMessage.state == "sending", INTERRUPTED), else_=OutboxMessage.last_error),
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.brand_id,
            OutboxMessage.topic,
            OutboxMessage.recipient,
            OutboxMessage.payload,
            OutboxMessage.created_at,
            OutboxMessage.attempts,
            OutboxMessage.attempts_at_replay,
        )
    )
    return [
        Outgoing(
            id=row.id,
            kind=row.kind,
            brand_id=row.brand_id,
            topic=row.topic,
            recipient=row.recipient,
            payload=row.payload,
            created_at=row.created_at,
            attempt=row.attempts,
            attempt_since_replay=row.attempts - row.attempts_at_replay,
            claimed_by=claimed_by,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Outcome:
    """How an attempt went: kept in `outbox_attempts`."""

    ok: bool
    detail: str
    duration_ms: int
    status_code: int | None


async def _settle(
    session: AsyncSession, message: Outgoing, outcome: Outcome, *, now: datetime, changes: dict[str, Any]
) -> bool:
    """Record an attempt and its outcome; False when the claim was lost (another worker holds the message)."""
    held = (
        OutboxMessage.id == message.id,
        OutboxMessage.state == "sending",
        OutboxMessage.claimed_by == message.claimed_by,
    )
    result = await session.execute(update(OutboxMessage).where(*held).values(claimed_by=None, **changes))
    kept = result.rowcount == 1  # type: ignore[attr-defined]
    # The attempt is kept even when the claim was lost, unless the message itself is gone (its webhook
    # endpoint was deleted meanwhile).
    if kept or await session.scalar(select(OutboxMessage.id).where(OutboxMessage.id == message.id)):
        await session.execute(
            insert(OutboxAttempt).values(
                id=new_id(),
                message_id=message.id,
                number=message.attempt,
                worker=message.claimed_by,
                at=now,
                duration_ms=outcome.duration_ms,
                ok=outcome.ok,
                detail=outcome.detail[:DETAIL_LENGTH],
                status_code=outcome.status_code,
            )
        )
    return kept


async def mark_sent(
    session: AsyncSession,
    *,
    message: Outgoing,
    detail: str,
    now: datetime,
    duration_ms: int = 0,
    status_code: int | None = None,
) -> bool:
    """The receiver accepted the message."""
    outcome = Outcome(True, detail, duration_ms, status_code)
    return await _settle(
        session, message, outcome, now=now, changes={"state": "sent", "sent_at": now, "last_error": None}
    )


async def mark_failed(
    session: AsyncSession,
    *,
    message: Outgoing,
    error: str,
    retry_at: datetime | None,
    now: datetime,
    duration_ms: int = 0,
    status_code: int | None = None,
) -> bool:
    """The attempt failed: due again at `retry_at`, or given up (dead) without one."""
    changes: dict[str, Any] = {"last_error": error[:DETAIL_LENGTH]}
    changes.update({"state": "failed", "next_try_at": retry_at} if retry_at is not None else {"state": "dead"})
    return await _settle(session, message, Outcome(False, error, duration_ms, status_code), now=now, changes=changes)


async def replay(session: AsyncSession, *, message_id: uuid.UUID, now: datetime) -> bool:
    """Send a message again as soon as a worker can, with its id, its retries counted afresh; False
    while a worker is sending it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state != "sending")
        .values(state="pending", next_try_at=now, attempts_at_replay=OutboxMessage.attempts, last_error=None)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def forget(session: AsyncSession, *, kind: MessageKind, recipient: str) -> None:
    """Delete every message of this kind to this recipient, with their attempts."""
    await session.execute(delete(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient))


async def release(session: AsyncSession, *, messages: Sequence[Outgoing], now: datetime) -> None:
    """Give back messages a stopping worker did not finish: due again at once, for any worker."""
    for message in messages:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.claimed_by)
            .values(state="failed", next_try_at=now, claimed_by=None, last_error=INTERRUPTED)
        )


def message_out(row: OutboxMessage) -> MessageOut:
    settled = row.state in ("sent", "dead")
    return MessageOut(
        id=row.id,
        kind=row.kind,
        brand_id=row.brand_id,
        topic=row.topic,
        recipient=row.recipient,
        about=row.about,
        payload=row.payload,
        state=row.state,  # type: ignore[arg-type]
        attempts=row.attempts,
        next_try_at=None if settled else row.next_try_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


async def list_messages(
    session: AsyncSession,
    *,
    brand_id: uuid.UUID,
    kind: str,
    state: MessageState | None = None,
    about: str | None = None,
    recipient: str | None = None,
    limit: int = 100,
) -> list[MessageOut]:
    """A brand's messages of one kind, newest first."""
    query = select(OutboxMessage).where(OutboxMessage.brand_id == brand_id, OutboxMessage.kind == kind)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    if about is not None:
        query = query.where(OutboxMessage.about == about)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    found = await session.scalars(query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit))
    return [message_out(row) for row in found]


async def get_message(session: AsyncSession, *, message_id: uuid.UUID) -> MessageOut | None:
    row = await session.get(OutboxMessage, message_id)
    return None if row is None else message_out(row)


async def list_attempts(session: AsyncSession, *, message_id: uuid.UUID) -> list[AttemptOut]:
    """Every attempt at sending a message, first first."""
    return (await attempts_of(session, message_ids=[message_id]))[message_id]


async def attempts_of(session: AsyncSession, *, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AttemptOut]]:
    """Every attempt at sending each of these messages, first first."""
    found: dict[uuid.UUID, list[AttemptOut]] = {message_id: [] for message_id in message_ids}
    if not found:
        return found
    for attempt in await session.scalars(
        select(OutboxAttempt)
        .where(OutboxAttempt.message_id.in_(found))
        .order_by(OutboxAttempt.message_id, OutboxAttempt.number, OutboxAttempt.at)
    ):
        found[attempt.message_id].append(AttemptOut.model_validate(attempt, from_attributes=True))
    return found
