"""Polls over HTTP: the brand's staff prepare, open and close them; anyone reads an opened one.
Viewers vote in the live room (`poll:vote`, web/poll_events.py)."""

from __future__ import annotations

import uuid

from shopcast.polls import service as polls
from shopcast.polls.schemas import EpisodePoll, PollIn, PollOut, PollUpdate, PublicPollView
from shopcast.web.api import Api, Call

api = Api()


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/polls",
    summary="Write a draft poll for the episode (its managers, hosts and moderators)",
    tag="polls",
    response=PollOut,
    status=201,
    access="signed-in",
    errors=(409,),
)
async def create_poll(call: Call, episode_id: uuid.UUID, body: PollIn) -> PollOut:
    return await polls.create_poll(call.session, actor=call.actor, episode_id=episode_id, data=body, now=call.now())


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/polls",
    summary="The episode's polls with their tallies and results (its staff)",
    tag="polls",
    response=list[PollOut],
    access="signed-in",
)
async def list_polls(call: Call, episode_id: uuid.UUID) -> list[PollOut]:
    return await polls.list_polls(call.session, actor=call.actor, episode_id=episode_id)


@api.route(
    "PATCH",
    "/api/v1/polls/{poll_id}",
    summary="Change a draft poll",
    tag="polls",
    response=PollOut,
    access="signed-in",
    errors=(409,),
)
async def update_poll(call: Call, poll_id: uuid.UUID, body: PollUpdate) -> PollOut:
    return await polls.update_poll(call.session, actor=call.actor, poll_id=poll_id, data=body, now=call.now())


@api.route(
    "DELETE",
    "/api/v1/polls/{poll_id}",
    summary="Delete a draft poll",
    tag="polls",
    status=204,
    access="signed-in",
    errors=(409,),
)
async def delete_poll(call: Call, poll_id: uuid.UUID) -> None:
    await polls.delete_poll(call.session, actor=call.actor, poll_id=poll_id)


@api.route(
    "POST",
    "/api/v1/polls/{poll_id}/open",
    summary="Open a draft during the live: every viewer gets `poll:opened`",
    tag="polls",
    response=PollOut,
    access="signed-in",
    errors=(409,),
)
async def open_poll(call: Call, poll_id: uuid.UUID) -> PollOut:
    return await polls.open_poll(
        call.session, actor=call.actor, poll_id=poll_id, now=call.now(), bus=call.resources.bus
    )


@api.route(
    "POST",
    "/api/v1/polls/{poll_id}/close",
    summary="Close an open poll: its result is frozen and sent to the room (`poll:closed`)",
    tag="polls",
    response=PollOut,
    access="signed-in",
    errors=(409,),
)
async def close_poll(call: Call, poll_id: uuid.UUID) -> PollOut:
    return await polls.close_poll(
        call.session, actor=call.actor, poll_id=poll_id, now=call.now(), bus=call.resources.bus
    )


@api.route(
    "GET",
    "/api/v1/public/polls/{poll_id}",
    summary="An opened poll as viewers see it, with its result once closed",
    tag="public",
    response=PublicPollView,
)
async def public_poll(call: Call, poll_id: uuid.UUID) -> PublicPollView:
    return await polls.public_poll(call.session, poll_id=poll_id)


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}/polls",
    summary="The episode's opened polls with their times and results (the replay shows them)",
    tag="public",
    response=list[EpisodePoll],
)
async def episode_polls(call: Call, episode_id: uuid.UUID) -> list[EpisodePoll]:
    return await polls.episode_polls(call.session, episode_id=episode_id)
