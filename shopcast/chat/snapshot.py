"""The chat in a joining viewer's snapshot: read once for the room, and for each viewer only what is
theirs alone.

Everyone sees the same recent messages, open questions, pinned message and slow mode (`room_chat`,
read once and shared by every viewer joining meanwhile). A viewer who was shadow-banned also sees the
messages they sent meanwhile, which nobody else does (`own_hidden`, one query for a whole batch of
joining viewers); `newest` and `oldest` put the two together as one query for that viewer would have.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.chat.models import ChatMessage, ChatRoom
from shopcast.chat.schemas import MessageOut
from shopcast.chat.service import message_by_id, messages_out

RECENT = 50  # messages and questions in a join snapshot
Viewer = tuple[str, uuid.UUID]
Shown = TypeVar("Shown")
Numbered = list[tuple[int, MessageOut]]  # (the message's number: the order it was written in, the message)


@dataclass(frozen=True)
class ChatShown:
    """Messages as a joining viewer gets them, each with its number (the order they were written in)."""

    recent: Numbered = field(default_factory=list)
    """The last `RECENT` messages, oldest first."""
    questions: Numbered = field(default_factory=list)
    """The first `RECENT` questions not answered yet, oldest first."""


@dataclass(frozen=True)
class RoomChat(ChatShown):
    """The chat as everyone in the room sees it now."""

    pinned: MessageOut | None = None
    slow_mode_seconds: int = 0


async def room_chat(session: AsyncSession, *, episode_id: uuid.UUID) -> RoomChat:
    """What every viewer joining now sees of the chat (their own hidden messages aside)."""
    everyone = (ChatMessage.episode_id == episode_id, ChatMessage.deleted_at.is_(None), ChatMessage.shadowed.is_(False))
    recent = list(
        await session.scalars(select(ChatMessage).where(*everyone).order_by(ChatMessage.number.desc()).limit(RECENT))
    )[::-1]
    open_question = (ChatMessage.question, ChatMessage.answered_at.is_(None))
    questions = list(
        await session.scalars(
            select(ChatMessage).where(*everyone, *open_question).order_by(ChatMessage.number).limit(RECENT)
        )
    )
    room = await session.get(ChatRoom, episode_id)
    pinned = None
    if room is not None and room.pinned_message_id is not None:
        pinned = await message_by_id(session, room.pinned_message_id)
    shown = await messages_out(session, [*recent, *questions, *([pinned] if pinned is not None else [])])
    return RoomChat(
        recent=[(m.number, out) for m, out in zip(recent, shown, strict=False)],
        questions=[(m.number, out) for m, out in zip(questions, shown[len(recent) :], strict=False)],
        pinned=shown[-1] if pinned is not None else None,
        slow_mode_seconds=room.slow_mode_seconds if room is not None else 0,
    )


async def own_hidden(
    session: AsyncSession, *, episode_id: uuid.UUID, authors: Sequence[Viewer]
) -> dict[Viewer, ChatShown]:
    """For each of these viewers who has any, the messages they sent while shadow-banned (only they
    see them): the last `RECENT` and the first `RECENT` open questions of each, in one query."""
    if not authors:
        return {}
    author = (ChatMessage.author_kind, ChatMessage.author_id)
    is_open_question = and_(ChatMessage.question, ChatMessage.answered_at.is_(None))
    ranked = (
        select(
            ChatMessage.number.label("number"),
            func.row_number().over(partition_by=author, order_by=ChatMessage.number.desc()).label("from_last"),
            # Among each author's open questions (and, apart, the rest), from the first.
            func.row_number().over(partition_by=(*author, is_open_question), order_by=ChatMessage.number).label("nth"),
            is_open_question.label("open_question"),
        )
        .where(
            ChatMessage.episode_id == episode_id,
            ChatMessage.shadowed,
            ChatMessage.deleted_at.is_(None),
            tuple_(*author).in_(set(authors)),
        )
        .subquery()
    )
    rows = list(
        await session.execute(
            select(ChatMessage, ranked.c.from_last, ranked.c.nth, ranked.c.open_question)
            .join(ranked, ranked.c.number == ChatMessage.number)
            .where((ranked.c.from_last <= RECENT) | (ranked.c.open_question & (ranked.c.nth <= RECENT)))
            .order_by(ChatMessage.number)
        )
    )
    shown = await messages_out(session, [message for message, *_ in rows])
    found: dict[Viewer, ChatShown] = {}
    for (message, from_last, nth, open_question), out in zip(rows, shown, strict=True):
        theirs = found.setdefault((message.author_kind, message.author_id), ChatShown())
        if from_last <= RECENT:
            theirs.recent.append((message.number, out))
        if open_question and nth <= RECENT:
            theirs.questions.append((message.number, out))
    return found


def newest(everyone: list[tuple[int, Shown]], own: list[tuple[int, Shown]]) -> list[Shown]:
    """The last `RECENT` of both lists (each in number order), oldest first."""
    merged = list(heapq.merge(everyone, own, key=lambda numbered: numbered[0]))
    return [shown for _, shown in merged[-RECENT:]]


def oldest(everyone: list[tuple[int, Shown]], own: list[tuple[int, Shown]]) -> list[Shown]:
    """The first `RECENT` of both lists (each in number order)."""
    merged = list(heapq.merge(everyone, own, key=lambda numbered: numbered[0]))
    return [shown for _, shown in merged[:RECENT]]
