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
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, insert, select, update
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


def _due(kinds: Sequence[str], now: datetime, max_attempts: int) -> ColumnElement[bool]:
    return (
        OutboxMessage.state.in_(RETRIED)
        & (OutboxMessage.next_try_at <= now)
        & OutboxMessage.kind.in_(kinds)
        & (OutboxMessage.attempts < max_attempts)
    )


async def claim(
    session: AsyncSession,
    *,
    kinds: Sequence[str],
    claimed_by: str,
    limit: int,
    now: datetime,
    until: datetime,
    max_attempts: int,
) -> list[Outgoing]:
    """Take up to `limit` due messages of these kinds for one worker until `until` (oldest due first)."""
    # A message whose last allowed attempt was cut short (its worker died, perhaps because of it) is given up.
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == "sending",
            OutboxMessage.next_try_at <= now,
            OutboxMessage.attempts >= max_attempts,
        )
        .values(state="dead", claimed_by=None, last_error=INTERRUPTED)
    )
    due = _due(kinds, now, max_attempts)
    ids = list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(due)
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
            claimed_by=claimed_by,
        )
        for row in rows
    ]


async def _settle(
    session: AsyncSession,
    message: Outgoing,
    *,
    ok: bool,
    detail: str,
    now: datetime,
    duration_ms: int,
    changes: dict[str, Any],
) -> bool:
    """Record an attempt and its outcome; False when the claim was lost (another worker holds the message)."""
    detail = detail[:DETAIL_LENGTH]
    await session.execute(
        insert(OutboxAttempt).values(
            id=new_id(),
            message_id=message.id,
            number=message.attempt,
            worker=message.claimed_by,
            at=now,
            duration_ms=duration_ms,
            ok=ok,
            detail=detail,
        )
    )
    held = (
        OutboxMessage.id == message.id,
        OutboxMessage.state == "sending",
        OutboxMessage.claimed_by == message.claimed_by,
    )
    result = await session.execute(update(OutboxMessage).where(*held).values(claimed_by=None, **changes))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def mark_sent(
    session: AsyncSession, *, message: Outgoing, detail: str, now: datetime, duration_ms: int = 0
) -> bool:
    """The receiver accepted the message."""
    changes = {"state": "sent", "sent_at": now, "last_error": None}
    return await _settle(session, message, ok=True, detail=detail, now=now, duration_ms=duration_ms, changes=changes)


async def mark_failed(
    session: AsyncSession,
    *,
    message: Outgoing,
    error: str,
    retry_at: datetime | None,
    now: datetime,
    duration_ms: int = 0,
) -> bool:
    """The attempt failed: due again at `retry_at`, or given up (dead) without one."""
    changes: dict[str, Any] = {"last_error": error[:DETAIL_LENGTH]}
    changes.update({"state": "failed", "next_try_at": retry_at} if retry_at is not None else {"state": "dead"})
    return await _settle(session, message, ok=False, detail=error, now=now, duration_ms=duration_ms, changes=changes)


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
    limit: int = 100,
) -> list[MessageOut]:
    """A brand's messages of one kind, newest first."""
    query = select(OutboxMessage).where(OutboxMessage.brand_id == brand_id, OutboxMessage.kind == kind)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    if about is not None:
        query = query.where(OutboxMessage.about == about)
    found = await session.scalars(query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit))
    return [message_out(row) for row in found]


async def get_message(session: AsyncSession, *, message_id: uuid.UUID) -> MessageOut | None:
    row = await session.get(OutboxMessage, message_id)
    return None if row is None else message_out(row)


async def list_attempts(session: AsyncSession, *, message_id: uuid.UUID) -> list[AttemptOut]:
    """Every attempt at sending a message, first first."""
    found = await session.scalars(
        select(OutboxAttempt).where(OutboxAttempt.message_id == message_id).order_by(OutboxAttempt.number)
    )
    return [AttemptOut.model_validate(attempt, from_attributes=True) for attempt in found]
