"""Sending a chat message: everything it is checked against read in one statement, then stored.

In a busy room a message waits for the event loop at each of its database round trips (a rush of
viewers arriving keeps the loop busy with their handshakes), so its checks are not one query each:
the episode's status, the sender's restrictions, slow mode and their last message, the brand's rules
and the message replied to are read together, as fresh as before, with the message's insert after
them and nothing read between the insert and the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, and_, false, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from shopcast.chat import events
from shopcast.chat.identity import Chatter
from shopcast.chat.models import ChatMessage, ChatRestriction, ChatRoom, ChatRules
from shopcast.chat.schemas import MessageOut
from shopcast.chat.service import active, keep_longest, message_out, refuse_restricted, rules_of
from shopcast.chat.text import apply_rules, clean
from shopcast.core.bus import Bus
from shopcast.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Phrase, TooManyRequests, Unauthorized
from shopcast.core.ratelimit import whole_seconds
from shopcast.live import service as live
from shopcast.live.events import tell_room
from shopcast.live.lifecycle import EpisodeStatus

OPEN_STATUSES = (EpisodeStatus.SCHEDULED, EpisodeStatus.LIVE)


@dataclass
class _Checks:
    """What a message is checked against, as read for it."""

    status: EpisodeStatus | None
    slow_mode_seconds: int
    last_sent: datetime | None
    rules: ChatRules | None
    quoted: ChatMessage | None
    read_along: tuple[Any, ...]
    restrictions: dict[str, ChatRestriction] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """A message stored (its room told once committed)."""

    message: MessageOut
    read_along: tuple[Any, ...] = ()
    """The values of the `read_along` subqueries given to `send_message`, read with its checks."""


async def _read_checks(
    session: AsyncSession,
    *,
    episode_id: uuid.UUID,
    brand_id: uuid.UUID,
    chatter: Chatter,
    reply_to: uuid.UUID | None,
    now: datetime,
    read_along: Sequence[ScalarSelect[Any]],
) -> _Checks:
    """One statement: a row per restriction of the sender in force (at least one row), each with the
    episode's status, slow mode, the sender's last message while slow mode is on, the brand's rules
    and the message replied to."""
    slow_mode = select(ChatRoom.slow_mode_seconds).where(ChatRoom.episode_id == episode_id).scalar_subquery()
    # Only while slow mode is on (the condition is constant: both databases test it before scanning).
    last_sent = (
        select(func.max(ChatMessage.created_at))
        .where(
            ChatMessage.episode_id == episode_id,
            ChatMessage.author_kind == chatter.kind,
            ChatMessage.author_id == chatter.id,
            slow_mode > 0,
        )
        .scalar_subquery()
    )
    quoted = aliased(ChatMessage)
    one_row = select(literal(1).label("one")).subquery("one_row")
    query = (
        select(
            live.status_of(episode_id).label("status"),
            slow_mode.label("slow_mode_seconds"),
            (last_sent if not chatter.is_staff else null()).label("last_sent"),
            ChatRules,
            quoted,
            ChatRestriction,
            *read_along,
        )
        .select_from(one_row)
        .outerjoin(ChatRules, ChatRules.brand_id == brand_id)
        .outerjoin(quoted, quoted.id == reply_to if reply_to is not None else false())
        .outerjoin(
            ChatRestriction,
            and_(
                ChatRestriction.brand_id == brand_id,
                ChatRestriction.viewer_kind == chatter.kind,
                ChatRestriction.viewer_id == chatter.id,
                *active(now),
            )
            if not chatter.is_staff  # staff are never restricted
            else false(),
        )
    )
    rows = list(await session.execute(query))
    status, slow_mode_seconds, last, rules, quoted_message, _, *along = rows[0]
    checks = _Checks(status, slow_mode_seconds or 0, last, rules, quoted_message, tuple(along))
    for row in rows:
        if (restriction := row[5]) is not None:
            keep_longest(checks.restrictions, restriction)
    return checks


def _refuse_slow_mode(checks: _Checks, now: datetime) -> None:
    if checks.slow_mode_seconds <= 0 or checks.last_sent is None:
        return
    wait = checks.slow_mode_seconds - (now - checks.last_sent).total_seconds()
    if wait > 0:
        raise TooManyRequests(
            "errors.chat.slow_mode", every=checks.slow_mode_seconds, seconds=whole_seconds(wait), retry_after=wait
        )


async def send_message(
    session: AsyncSession,
    *,
    episode_id: uuid.UUID,
    brand_id: uuid.UUID,
    chatter: Chatter,
    text: str,
    reply_to: uuid.UUID | None,
    question: bool,
    now: datetime,
    bus: Bus,
    read_along: Sequence[ScalarSelect[Any]] = (),
) -> Sent:
    """Post a message: checked against restrictions, slow mode and the brand's rules, then stored and told
    (`brand_id`: the episode's brand; `read_along`: what the caller needs with the message, read in the
    same statement as its checks, before its insert)."""
    if chatter.is_anonymous:
        raise Unauthorized("errors.chat.nickname_token")
    if not chatter.name:
        raise Forbidden("errors.chat.nickname_first")
    checks = await _read_checks(
        session,
        episode_id=episode_id,
        brand_id=brand_id,
        chatter=chatter,
        reply_to=reply_to,
        now=now,
        read_along=read_along,
    )
    if checks.status is None:
        raise NotFound("errors.episode.none", episode_id=episode_id)
    if checks.status not in OPEN_STATUSES:
        raise Conflict("errors.chat.closed", status=checks.status.word)
    refuse_restricted(checks.restrictions, now=now, action=Phrase("errors.chat.to_write"))
    if not chatter.is_staff:
        _refuse_slow_mode(checks, now)
    text = apply_rules(clean(text), rules_of(checks.rules), staff=chatter.is_staff)
    if not text:
        raise InvalidInput("errors.chat.empty")
    quoted = checks.quoted
    if reply_to is not None:
        if quoted is None or quoted.episode_id != episode_id or quoted.deleted_at is not None or quoted.shadowed:
            raise InvalidInput("errors.chat.reply_elsewhere")
    message = ChatMessage(
        episode_id=episode_id,
        brand_id=brand_id,
        author_kind=chatter.kind,
        author_id=chatter.id,
        author_ref=chatter.ref,
        author_name=chatter.name,
        author_role=chatter.role,
        text=text,
        reply_to_id=reply_to,
        question=question,
        shadowed="shadow_ban" in checks.restrictions,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    out = message_out(message, quoted)
    if not message.shadowed:
        tell_room(session, bus, episode_id, events.CHAT_MESSAGE, {"message": out.model_dump(mode="json")})
    return Sent(out, checks.read_along)
