"""The chat's use cases: sending, the Q&A queue, moderation, pins, slow mode and the history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.chat import events
from shopcast.chat.identity import Chatter
from shopcast.chat.models import ChatMessage, ChatRestriction, ChatRoom, ChatRules, ModerationEntry
from shopcast.chat.schemas import (
    AuthorOut,
    ChatRulesIn,
    ChatRulesOut,
    MessageOut,
    ModerationEntryOut,
    QuotedMessage,
    RestrictionOut,
)
from shopcast.chat.text import TextRules
from shopcast.core.bus import Bus
from shopcast.core.errors import Conflict, Forbidden, NotFound, Phrase
from shopcast.core.security import Principal, Role, authorize
from shopcast.live import service as live
from shopcast.live.events import tell_room

MODERATORS = (Role.MANAGER, Role.HOST, Role.MODERATOR)


def message_out(message: ChatMessage, quoted: ChatMessage | None = None) -> MessageOut:
    return MessageOut(
        id=message.id,
        episode_id=message.episode_id,
        text=message.text,
        author=AuthorOut(ref=message.author_ref, name=message.author_name, role=message.author_role),  # type: ignore[arg-type]
        reply_to=(
            QuotedMessage(id=quoted.id, author_name=quoted.author_name, text=quoted.text[:140])
            if quoted is not None and quoted.deleted_at is None
            else None
        ),
        question=message.question,
        answered=message.answered_at is not None,
        at=message.created_at,
    )


async def messages_out(session: AsyncSession, messages: list[ChatMessage]) -> list[MessageOut]:
    """The messages as shown, each with the message it replies to (one query for all of them)."""
    wanted = {m.reply_to_id for m in messages if m.reply_to_id is not None}
    quoted = {q.id: q for q in await session.scalars(select(ChatMessage).where(ChatMessage.id.in_(wanted)))}
    return [message_out(m, quoted.get(m.reply_to_id) if m.reply_to_id else None) for m in messages]


async def message_by_id(session: AsyncSession, message_id: uuid.UUID) -> ChatMessage | None:
    return await session.scalar(select(ChatMessage).where(ChatMessage.id == message_id))


# --- rules and restrictions ------------------------------------------------------------------


async def text_rules(session: AsyncSession, brand_id: uuid.UUID) -> TextRules:
    return rules_of(await session.get(ChatRules, brand_id))


def rules_of(rules: ChatRules | None) -> TextRules:
    """The brand's rules as the text checks take them (None: the brand has set none)."""
    if rules is None:
        return TextRules()
    return TextRules(
        banned_words=tuple(rules.banned_words),
        reject_banned_words=rules.banned_words_action == "reject",
        allow_links=rules.allow_links,
        allowed_link_domains=tuple(rules.allowed_link_domains),
    )


async def get_rules(session: AsyncSession, *, actor: Principal | None, brand_slug: str) -> ChatRulesOut:
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id)
    rules = await session.get(ChatRules, brand.id)
    if rules is None:
        return ChatRulesOut(brand_id=brand.id)
    return ChatRulesOut.model_validate(rules, from_attributes=True)


async def set_rules(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, data: ChatRulesIn, now: datetime
) -> ChatRulesOut:
    """Replace the brand's chat rules (managers)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    rules = await session.get(ChatRules, brand.id)
    if rules is None:
        rules = ChatRules(brand_id=brand.id)
        session.add(rules)
    rules.banned_words = sorted({w.lower() for w in data.banned_words})
    rules.banned_words_action = data.banned_words_action
    rules.allow_links = data.allow_links
    rules.allowed_link_domains = sorted(set(data.allowed_link_domains))
    rules.updated_at = now
    await session.flush()
    return ChatRulesOut.model_validate(rules, from_attributes=True)


def active(now: datetime):  # type: ignore[no-untyped-def]
    """The conditions of a restriction in force at `now`."""
    return (
        ChatRestriction.lifted_at.is_(None),
        (ChatRestriction.until.is_(None)) | (ChatRestriction.until > now),
    )


async def restrictions_of(
    session: AsyncSession, *, brand_id: uuid.UUID, chatter: Chatter, now: datetime
) -> dict[str, ChatRestriction]:
    """The viewer's restrictions in force in the brand, by kind (staff are never restricted)."""
    found = await restrictions_of_many(session, brand_id=brand_id, chatters=[chatter], now=now)
    return found.get((chatter.kind, chatter.id), {})


async def restrictions_of_many(
    session: AsyncSession, *, brand_id: uuid.UUID, chatters: Sequence[Chatter], now: datetime
) -> dict[tuple[str, uuid.UUID], dict[str, ChatRestriction]]:
    """`restrictions_of` for several viewers in one query: (kind, id) -> their restrictions, for
    those who have any."""
    viewers = {(c.kind, c.id) for c in chatters if not c.is_staff}
    if not viewers:
        return {}
    if len(viewers) == 1:  # a join's question: plain equalities, the index's own shape
        ((kind, viewer_id),) = viewers
        who = (ChatRestriction.viewer_kind == kind, ChatRestriction.viewer_id == viewer_id)
    else:
        who = (tuple_(ChatRestriction.viewer_kind, ChatRestriction.viewer_id).in_(viewers),)
    query = select(ChatRestriction).where(ChatRestriction.brand_id == brand_id, *who, *active(now))
    found: dict[tuple[str, uuid.UUID], dict[str, ChatRestriction]] = {}
    for restriction in await session.scalars(query):
        keep_longest(found.setdefault((restriction.viewer_kind, restriction.viewer_id), {}), restriction)
    return found


def keep_longest(theirs: dict[str, ChatRestriction], restriction: ChatRestriction) -> None:
    """Add one of a viewer's restrictions in force to `theirs` (by kind), keeping the longest of each
    kind (None: until lifted)."""
    current = theirs.get(restriction.kind)
    if current is None or (
        current.until is not None and (restriction.until is None or restriction.until > current.until)
    ):
        theirs[restriction.kind] = restriction


def _banned(ban: ChatRestriction) -> Forbidden:
    if ban.reason:
        return Forbidden("errors.chat.banned_because", reason=ban.reason)
    return Forbidden("errors.chat.banned")


def refuse_restricted(restrictions: dict[str, ChatRestriction], *, now: datetime, action: Phrase) -> None:
    """403 with the reason for a banned or timed-out viewer (`action`: what they may do again later)."""
    if "ban" in restrictions:
        raise _banned(restrictions["ban"])
    if "timeout" in restrictions:
        until = restrictions["timeout"].until
        left = max(1, round((until - now).total_seconds() / 60)) if until else 0
        raise Forbidden("errors.chat.timed_out", action=action, minutes=left, extra={"until": until})


async def restricted_viewers(
    session: AsyncSession, *, brand_id: uuid.UUID, now: datetime
) -> set[tuple[str, uuid.UUID]]:
    """(kind, id) of every viewer banned or timed out in the brand's chats now."""
    query = select(ChatRestriction.viewer_kind, ChatRestriction.viewer_id).where(
        ChatRestriction.brand_id == brand_id, ChatRestriction.kind.in_(("ban", "timeout")), *active(now)
    )
    return {(kind, viewer_id) for kind, viewer_id in await session.execute(query)}


async def check_may_join(session: AsyncSession, *, brand_id: uuid.UUID, chatter: Chatter, now: datetime) -> None:
    """403 with the ban's reason for a viewer banned from the brand's chats."""
    refuse_banned(await restrictions_of(session, brand_id=brand_id, chatter=chatter, now=now))


def refuse_banned(restrictions: dict[str, ChatRestriction]) -> None:
    """403 with the ban's reason, if these restrictions (a viewer's) include a ban."""
    if "ban" in restrictions:
        raise _banned(restrictions["ban"])


async def list_restrictions(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, now: datetime
) -> list[RestrictionOut]:
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, *MODERATORS)
    query = (
        select(ChatRestriction)
        .where(ChatRestriction.brand_id == brand.id, *active(now))
        .order_by(ChatRestriction.created_at.desc())
    )
    return [RestrictionOut.model_validate(r, from_attributes=True) for r in await session.scalars(query)]


async def lift_restriction(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, restriction_id: uuid.UUID, now: datetime
) -> None:
    """Lift a ban, time-out or shadow-ban (kept in the audit log)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    actor = authorize(actor, brand.id, *MODERATORS)
    restriction = await session.get(ChatRestriction, restriction_id)
    if restriction is None or restriction.brand_id != brand.id:
        raise NotFound("errors.chat.no_ban", restriction_id=restriction_id)
    if restriction.lifted_at is None:
        restriction.lifted_at = now
        session.add(
            ModerationEntry(
                brand_id=brand.id,
                actor_id=actor.id,
                actor_name=actor.name,
                action=f"lift_{restriction.kind}",
                viewer_name=restriction.viewer_name,
                created_at=now,
            )
        )


# --- moderation ------------------------------------------------------------------------------


async def _staff_message(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, message_id: uuid.UUID
) -> tuple[Principal, ChatMessage]:
    episode = await live.load_episode(session, episode_id)
    actor = authorize(actor, episode.brand_id, *MODERATORS)
    message = await message_by_id(session, message_id)
    if message is None or message.episode_id != episode.id:
        raise NotFound("errors.chat.no_message", message_id=message_id)
    return actor, message


def _audit(
    session: AsyncSession, actor: Principal, message: ChatMessage, action: str, now: datetime, detail: str = ""
) -> None:
    session.add(
        ModerationEntry(
            brand_id=message.brand_id,
            episode_id=message.episode_id,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            message_id=message.id,
            message_text=message.text,
            viewer_name=message.author_name,
            detail=detail,
            created_at=now,
        )
    )


async def delete_message(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    message_id: uuid.UUID,
    reason: str,
    now: datetime,
    bus: Bus,
) -> None:
    """Remove a message for everyone; the audit log keeps its text."""
    actor, message = await _staff_message(session, actor=actor, episode_id=episode_id, message_id=message_id)
    if message.deleted_at is not None:
        return
    message.deleted_at = now
    room = await session.get(ChatRoom, episode_id)
    if room is not None and room.pinned_message_id == message.id:
        room.pinned_message_id = None
        tell_room(session, bus, episode_id, events.CHAT_UNPINNED, {})
    _audit(session, actor, message, "delete", now, reason)
    tell_room(session, bus, episode_id, events.CHAT_DELETED, {"message_id": str(message.id)})


async def answer_question(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    message_id: uuid.UUID,
    now: datetime,
    bus: Bus,
) -> None:
    """Mark a question answered: it leaves the Q&A queue."""
    actor, message = await _staff_message(session, actor=actor, episode_id=episode_id, message_id=message_id)
    if not message.question:
        raise Conflict("errors.chat.not_a_question")
    if message.answered_at is None:
        message.answered_at = now
        tell_room(session, bus, episode_id, events.CHAT_ANSWERED, {"message_id": str(message.id)})


async def restrict_author(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    message_id: uuid.UUID,
    kind: str,
    minutes: int | None,
    reason: str,
    now: datetime,
    bus: Bus,
) -> RestrictionOut:
    """Ban, time out or shadow-ban the author of a message in all of the brand's chats."""
    actor, message = await _staff_message(session, actor=actor, episode_id=episode_id, message_id=message_id)
    if message.author_role != "viewer":
        raise Conflict("errors.chat.staff")
    restriction = ChatRestriction(
        brand_id=message.brand_id,
        viewer_kind=message.author_kind,
        viewer_id=message.author_id,
        viewer_ref=message.author_ref,
        viewer_name=message.author_name,
        kind=kind,
        until=now + timedelta(minutes=minutes) if minutes else None,
        reason=reason,
        created_by=actor.id,
        created_at=now,
    )
    session.add(restriction)
    detail = f"{minutes} min" + (f": {reason}" if reason else "") if minutes else reason
    _audit(session, actor, message, kind, now, detail)
    if kind == "ban":
        payload = {"ref": message.author_ref, "reason": reason or "banned by a moderator"}
        tell_room(session, bus, episode_id, events.VIEWER_REMOVED, payload)
    await session.flush()
    return RestrictionOut.model_validate(restriction, from_attributes=True)


async def _room(session: AsyncSession, episode_id: uuid.UUID, now: datetime) -> ChatRoom:
    room = await session.get(ChatRoom, episode_id)
    if room is None:
        room = ChatRoom(episode_id=episode_id, slow_mode_seconds=0, updated_at=now)
        session.add(room)
    room.updated_at = now
    return room


async def pin_message(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    message_id: uuid.UUID,
    now: datetime,
    bus: Bus,
) -> MessageOut:
    actor, message = await _staff_message(session, actor=actor, episode_id=episode_id, message_id=message_id)
    if message.deleted_at is not None or message.shadowed:
        raise Conflict("errors.chat.not_visible")
    room = await _room(session, episode_id, now)
    room.pinned_message_id = message.id
    _audit(session, actor, message, "pin", now)
    out = (await messages_out(session, [message]))[0]
    tell_room(session, bus, episode_id, events.CHAT_PINNED, {"message": out.model_dump(mode="json")})
    return out


async def unpin(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime, bus: Bus
) -> None:
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *MODERATORS)
    room = await _room(session, episode_id, now)
    if room.pinned_message_id is not None:
        room.pinned_message_id = None
        tell_room(session, bus, episode_id, events.CHAT_UNPINNED, {})


async def set_slow_mode(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, seconds: int, now: datetime, bus: Bus
) -> None:
    episode = await live.load_episode(session, episode_id)
    actor = authorize(actor, episode.brand_id, *MODERATORS)
    room = await _room(session, episode_id, now)
    if room.slow_mode_seconds != seconds:
        room.slow_mode_seconds = seconds
        session.add(
            ModerationEntry(
                brand_id=episode.brand_id,
                episode_id=episode_id,
                actor_id=actor.id,
                actor_name=actor.name,
                action="slow_mode",
                detail=f"{seconds} s" if seconds else "off",
                created_at=now,
            )
        )
        tell_room(session, bus, episode_id, events.CHAT_SLOW_MODE, {"seconds": seconds})


async def moderation_log(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID
) -> list[ModerationEntryOut]:
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *MODERATORS)
    query = (
        select(ModerationEntry)
        .where(ModerationEntry.episode_id == episode_id)
        .order_by(ModerationEntry.created_at.desc())
        .limit(500)
    )
    return [
        ModerationEntryOut(
            id=e.id,
            action=e.action,
            actor_name=e.actor_name,
            message_id=e.message_id,
            message_text=e.message_text,
            viewer_name=e.viewer_name,
            detail=e.detail,
            at=e.created_at,
        )
        for e in await session.scalars(query)
    ]


# --- reading ---------------------------------------------------------------------------------


def _visible_to(chatter: Chatter | None):  # type: ignore[no-untyped-def]
    """Messages everyone sees, plus a shadow-banned viewer's own."""
    own = (
        (ChatMessage.author_kind == chatter.kind) & (ChatMessage.author_id == chatter.id)
        if chatter is not None
        else False
    )
    return ChatMessage.deleted_at.is_(None) & (ChatMessage.shadowed.is_(False) | own)


async def history(
    session: AsyncSession, *, episode_id: uuid.UUID, after: datetime | None, limit: int
) -> list[MessageOut]:
    """The episode's chat as the replay shows it, oldest first."""
    await live.load_episode(session, episode_id)
    query = select(ChatMessage).where(ChatMessage.episode_id == episode_id, _visible_to(None))
    if after is not None:
        query = query.where(ChatMessage.created_at > after)
    messages = list(await session.scalars(query.order_by(ChatMessage.number).limit(limit)))
    return await messages_out(session, messages)
