"""The chat over HTTP: the replay's history, the brand's rules and bans, the audit log, watch time."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shopcast.chat import audience
from shopcast.chat import service as chat
from shopcast.chat.schemas import AudienceOut, ChatRulesIn, ChatRulesOut, MessageOut, ModerationEntryOut, RestrictionOut
from shopcast.core.times import Instant
from shopcast.live.events import episode_room
from shopcast.web.api import Api, Call
from shopcast.web.sockets import TALLIES

api = Api()


class HistoryQuery(BaseModel):
    after: Instant | None = Field(None, description="Only messages sent after this time (to page forward).")
    limit: int = Field(200, ge=1, le=1000)


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}/chat",
    summary="The episode's chat, oldest first, as the replay shows it",
    tag="chat",
    response=list[MessageOut],
)
async def chat_history(call: Call, episode_id: uuid.UUID, query: HistoryQuery) -> list[MessageOut]:
    return await chat.history(call.session, episode_id=episode_id, after=query.after, limit=query.limit)


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/chat-rules",
    summary="The brand's chat rules",
    tag="chat",
    response=ChatRulesOut,
    access="signed-in",
)
async def get_chat_rules(call: Call, brand_slug: str) -> ChatRulesOut:
    return await chat.get_rules(call.session, actor=call.actor, brand_slug=brand_slug)


@api.route(
    "PUT",
    "/api/v1/brands/{brand_slug}/chat-rules",
    summary="Set the brand's banned words and link policy (managers)",
    tag="chat",
    response=ChatRulesOut,
    access="signed-in",
)
async def set_chat_rules(call: Call, brand_slug: str, body: ChatRulesIn) -> ChatRulesOut:
    return await chat.set_rules(call.session, actor=call.actor, brand_slug=brand_slug, data=body, now=call.now())


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/chat-bans",
    summary="Bans, time-outs and shadow-bans in force in the brand's chats",
    tag="chat",
    response=list[RestrictionOut],
    access="signed-in",
)
async def list_chat_bans(call: Call, brand_slug: str) -> list[RestrictionOut]:
    return await chat.list_restrictions(call.session, actor=call.actor, brand_slug=brand_slug, now=call.now())


@api.route(
    "DELETE",
    "/api/v1/brands/{brand_slug}/chat-bans/{restriction_id}",
    summary="Lift a ban, time-out or shadow-ban",
    tag="chat",
    status=204,
    access="signed-in",
)
async def lift_chat_ban(call: Call, brand_slug: str, restriction_id: uuid.UUID) -> None:
    await chat.lift_restriction(
        call.session, actor=call.actor, brand_slug=brand_slug, restriction_id=restriction_id, now=call.now()
    )


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/chat/moderation-log",
    summary="What moderators did in the episode's chat, newest first",
    tag="chat",
    response=list[ModerationEntryOut],
    access="signed-in",
)
async def moderation_log(call: Call, episode_id: uuid.UUID) -> list[ModerationEntryOut]:
    return await chat.moderation_log(call.session, actor=call.actor, episode_id=episode_id)


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/audience",
    summary="Viewers now and watch time so far",
    tag="chat",
    response=AudienceOut,
    access="signed-in",
)
async def episode_audience(call: Call, episode_id: uuid.UUID) -> AudienceOut:
    viewers_now = await call.request.app[TALLIES].viewers_now(episode_room(episode_id))
    await call.resources.facts.flush()  # the watch sessions of this process's latest joins and leaves
    return await audience.audience(
        call.session, actor=call.actor, episode_id=episode_id, viewers_now=viewers_now, now=call.now()
    )
