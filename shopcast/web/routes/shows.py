"""Shows and episodes for the brand's staff."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shopcast.core.db import after_commit
from shopcast.live import service as live
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.schemas import (
    BroadcastOut,
    EpisodeCreate,
    EpisodeOut,
    EpisodeUpdate,
    ShowCreate,
    ShowOut,
    ShowUpdate,
)
from shopcast.web.api import Api, Call

api = Api()


class EpisodeListQuery(BaseModel):
    include_past: bool = Field(False, description="Also list aired, and past cancelled, episodes.")


@api.route(
    "GET",
    "/api/v1/brands/{brand_slug}/shows",
    summary="The brand's shows",
    tag="shows",
    response=list[ShowOut],
    access="signed-in",
)
async def list_shows(call: Call, brand_slug: str) -> list[ShowOut]:
    return await live.list_shows(call.session, actor=call.actor, brand_slug=brand_slug)


@api.route(
    "POST",
    "/api/v1/brands/{brand_slug}/shows",
    summary="Plan a weekly show (managers)",
    tag="shows",
    response=ShowOut,
    status=201,
    access="signed-in",
)
async def create_show(call: Call, brand_slug: str, body: ShowCreate) -> ShowOut:
    weeks = call.resources.settings.schedule_weeks
    return await live.create_show(
        call.session, actor=call.actor, brand_slug=brand_slug, data=body, now=call.now(), weeks=weeks
    )


@api.route("GET", "/api/v1/shows/{show_id}", summary="One show", tag="shows", response=ShowOut, access="signed-in")
async def get_show(call: Call, show_id: uuid.UUID) -> ShowOut:
    return await live.get_show(call.session, actor=call.actor, show_id=show_id)


@api.route(
    "PATCH",
    "/api/v1/shows/{show_id}",
    summary="Change a show or its schedule (managers)",
    tag="shows",
    response=ShowOut,
    access="signed-in",
)
async def update_show(call: Call, show_id: uuid.UUID, body: ShowUpdate) -> ShowOut:
    weeks = call.resources.settings.schedule_weeks
    return await live.update_show(
        call.session, actor=call.actor, show_id=show_id, data=body, now=call.now(), weeks=weeks
    )


@api.route(
    "GET",
    "/api/v1/shows/{show_id}/episodes",
    summary="The show's episodes, cancelled ones included",
    tag="episodes",
    response=list[EpisodeOut],
    access="signed-in",
)
async def list_show_episodes(call: Call, show_id: uuid.UUID, query: EpisodeListQuery) -> list[EpisodeOut]:
    weeks = call.resources.settings.schedule_weeks
    return await live.list_show_episodes(
        call.session, actor=call.actor, show_id=show_id, now=call.now(), weeks=weeks, include_past=query.include_past
    )


@api.route(
    "POST",
    "/api/v1/shows/{show_id}/episodes",
    summary="Add a one-off episode (managers)",
    tag="episodes",
    response=EpisodeOut,
    status=201,
    access="signed-in",
)
async def add_episode(call: Call, show_id: uuid.UUID, body: EpisodeCreate) -> EpisodeOut:
    return await live.add_episode(call.session, actor=call.actor, show_id=show_id, data=body, now=call.now())


@api.route(
    "PATCH",
    "/api/v1/episodes/{episode_id}",
    summary="Move or change one episode (managers)",
    tag="episodes",
    response=EpisodeOut,
    access="signed-in",
    errors=(409,),
)
async def update_episode(call: Call, episode_id: uuid.UUID, body: EpisodeUpdate) -> EpisodeOut:
    return await live.update_episode(call.session, actor=call.actor, episode_id=episode_id, data=body, now=call.now())


async def _move(call: Call, episode_id: uuid.UUID, to: EpisodeStatus) -> EpisodeOut:
    episode = await live.change_status(
        call.session, actor=call.actor, episode_id=episode_id, to=to, now=call.now(), bus=call.resources.bus
    )
    if to in (EpisodeStatus.ENDED, EpisodeStatus.CANCELLED):
        # Also when no process is broadcasting it any more (a crash): its recording is finished.
        broadcasts = call.resources.broadcasts
        after_commit(call.session, lambda: broadcasts.end(episode_id))
    return episode


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/cancel",
    summary="Cancel one episode (managers)",
    tag="episodes",
    response=EpisodeOut,
    access="signed-in",
    errors=(409,),
)
async def cancel_episode(call: Call, episode_id: uuid.UUID) -> EpisodeOut:
    return await _move(call, episode_id, EpisodeStatus.CANCELLED)


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/start",
    summary="Go live (hosts and managers)",
    tag="episodes",
    response=EpisodeOut,
    access="signed-in",
    errors=(409,),
)
async def start_episode(call: Call, episode_id: uuid.UUID) -> EpisodeOut:
    return await _move(call, episode_id, EpisodeStatus.LIVE)


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/end",
    summary="End the show (hosts and managers)",
    tag="episodes",
    response=EpisodeOut,
    access="signed-in",
    errors=(409,),
)
async def end_episode(call: Call, episode_id: uuid.UUID) -> EpisodeOut:
    return await _move(call, episode_id, EpisodeStatus.ENDED)


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/broadcast",
    summary="Is the host on air, and how many watch",
    tag="episodes",
    response=BroadcastOut,
    access="signed-in",
)
async def broadcast_status(call: Call, episode_id: uuid.UUID) -> BroadcastOut:
    await live.check_staff(call.session, actor=call.actor, episode_id=episode_id)
    seen = await call.resources.replicas.on_air(episode_id)
    return BroadcastOut(on_air=seen.on_air, publisher_connected=seen.publisher_connected, viewers=seen.viewers)
