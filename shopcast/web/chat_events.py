"""The chat's client events in the live room (docs/api.md): each one a service call with an ack."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import Field

from shopcast.chat import sending
from shopcast.chat import service as chat
from shopcast.chat.schemas import MessageText, Reaction, Reason
from shopcast.contests import entries as giveaways
from shopcast.web.sockets import RoomCall, RoomRequest, room_event

T = TypeVar("T")


class SendRequest(RoomRequest):
    text: MessageText
    reply_to: uuid.UUID | None = None
    question: bool = False


class ReactRequest(RoomRequest):
    emoji: Reaction


class MessageRequest(RoomRequest):
    message_id: uuid.UUID
    reason: Reason = ""


class TimeoutRequest(MessageRequest):
    minutes: int = Field(ge=1, le=1440)


class SlowModeRequest(RoomRequest):
    seconds: int = Field(ge=0, le=300)


async def _moderate(call: RoomCall, action: Callable[..., Awaitable[T]], request: RoomRequest, **fields: Any) -> T:
    """Run a staff action of the chat service in one transaction (it authorises the caller)."""
    res = call.resources
    async with res.database.transaction() as session:
        return await action(
            session, actor=call.actor, episode_id=request.episode_id, now=call.now(), bus=res.bus, **fields
        )


@room_event("chat:send", SendRequest)
async def send(call: RoomCall, request: SendRequest) -> dict[str, Any]:
    res = call.resources
    async with res.database.transaction() as session:
        # The open giveaway's keyword, as a message, is also an entry: read with the message's checks,
        # before its insert (on SQLite the insert takes the database's one write lock until the commit,
        # and in a busy room every read between the two keeps the other messages waiting).
        sent = await sending.send_message(
            session,
            episode_id=request.episode_id,
            brand_id=call.membership.brand_id,
            chatter=call.membership.chatter,
            text=request.text,
            reply_to=request.reply_to,
            question=request.question,
            now=call.now(),
            bus=res.bus,
            read_along=giveaways.keyword_giveaway_columns(request.episode_id),
        )
        entry = await giveaways.enter_by_keyword(
            session,
            giveaway=giveaways.keyword_giveaway(*sent.read_along),
            chatter=call.membership.chatter,
            text=request.text,
            now=call.now(),
        )
    message = sent.message
    if entry is not None:
        return {"message": message.model_dump(mode="json"), "entry": entry.model_dump(mode="json")}
    return {"message": message.model_dump(mode="json")}


@room_event("chat:react", ReactRequest)
async def react(call: RoomCall, request: ReactRequest) -> None:
    call.tallies.react(request.episode_id, request.emoji)


@room_event("chat:answer", MessageRequest)
async def answer(call: RoomCall, request: MessageRequest) -> None:
    await _moderate(call, chat.answer_question, request, message_id=request.message_id)


@room_event("chat:delete", MessageRequest)
async def delete(call: RoomCall, request: MessageRequest) -> None:
    await _moderate(call, chat.delete_message, request, message_id=request.message_id, reason=request.reason)


async def _restrict(call: RoomCall, request: MessageRequest, kind: str, minutes: int | None) -> dict[str, Any]:
    restriction = await _moderate(
        call,
        chat.restrict_author,
        request,
        message_id=request.message_id,
        kind=kind,
        minutes=minutes,
        reason=request.reason,
    )
    return {"restriction": restriction.model_dump(mode="json")}


@room_event("chat:timeout", TimeoutRequest)
async def timeout(call: RoomCall, request: TimeoutRequest) -> dict[str, Any]:
    return await _restrict(call, request, "timeout", request.minutes)


@room_event("chat:ban", MessageRequest)
async def ban(call: RoomCall, request: MessageRequest) -> dict[str, Any]:
    return await _restrict(call, request, "ban", None)


@room_event("chat:shadow-ban", MessageRequest)
async def shadow_ban(call: RoomCall, request: MessageRequest) -> dict[str, Any]:
    return await _restrict(call, request, "shadow_ban", None)


@room_event("chat:pin", MessageRequest)
async def pin(call: RoomCall, request: MessageRequest) -> dict[str, Any]:
    message = await _moderate(call, chat.pin_message, request, message_id=request.message_id)
    return {"message": message.model_dump(mode="json")}


@room_event("chat:unpin", RoomRequest)
async def unpin(call: RoomCall, request: RoomRequest) -> None:
    await _moderate(call, chat.unpin, request)


@room_event("chat:slow-mode", SlowModeRequest)
async def slow_mode(call: RoomCall, request: SlowModeRequest) -> None:
    await _moderate(call, chat.set_slow_mode, request, seconds=request.seconds)
