"""What viewers see without signing in: coming episodes and calendar feeds."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shopcast.live import public as live
from shopcast.live.schemas import EpisodeOut, IceServerOut, PublicShowOut, WebRtcConfigOut
from shopcast.web.api import Api, Call, Raw

api = Api()


class UpcomingQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200, description="At most this many episodes.")


@api.route(
    "GET",
    "/api/v1/public/brands/{brand_slug}/episodes",
    summary="A brand's coming and live episodes",
    tag="public",
    response=list[EpisodeOut],
)
async def brand_upcoming(call: Call, brand_slug: str, query: UpcomingQuery) -> list[EpisodeOut]:
    weeks = call.resources.settings.schedule_weeks
    return await live.public_brand_episodes(
        call.session, brand_slug=brand_slug, now=call.now(), weeks=weeks, limit=query.limit
    )


@api.route(
    "GET", "/api/v1/public/shows/{show_id}", summary="A show as viewers see it", tag="public", response=PublicShowOut
)
async def public_show(call: Call, show_id: uuid.UUID) -> PublicShowOut:
    return await live.public_show(call.session, show_id=show_id)


@api.route(
    "GET",
    "/api/v1/public/shows/{show_id}/episodes",
    summary="A show's coming and live episodes",
    tag="public",
    response=list[EpisodeOut],
)
async def show_upcoming(call: Call, show_id: uuid.UUID) -> list[EpisodeOut]:
    weeks = call.resources.settings.schedule_weeks
    return await live.public_show_episodes(call.session, show_id=show_id, now=call.now(), weeks=weeks)


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}",
    summary="One episode as viewers see it",
    tag="public",
    response=EpisodeOut,
)
async def public_episode(call: Call, episode_id: uuid.UUID) -> EpisodeOut:
    return await live.public_episode(call.session, episode_id=episode_id)


@api.route(
    "GET",
    "/api/v1/public/shows/{show_id}/calendar.ics",
    summary="The show's iCalendar feed",
    tag="public",
    produces="text/calendar",
)
async def show_calendar(call: Call, show_id: uuid.UUID) -> Raw:
    weeks = call.resources.settings.schedule_weeks
    body = await live.show_calendar(call.session, show_id=show_id, now=call.now(), weeks=weeks)
    return _calendar_file(body, f"show-{show_id}.ics", "inline")  # a feed to subscribe to


@api.route(
    "GET",
    "/api/v1/public/episodes/{episode_id}/calendar.ics",
    summary="One episode as a calendar file, with the link to watch it",
    tag="public",
    produces="text/calendar",
)
async def episode_calendar(call: Call, episode_id: uuid.UUID) -> Raw:
    base = call.resources.settings.public_url or str(call.request.url.origin())
    watch_url = f"{base.rstrip('/')}/watch/{episode_id}"
    body = await live.episode_calendar(call.session, episode_id=episode_id, now=call.now(), watch_url=watch_url)
    return _calendar_file(body, f"episode-{episode_id}.ics", "attachment")  # a file to open once


def _calendar_file(body: bytes, filename: str, disposition: str) -> Raw:
    headers = {"Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "public, max-age=300"}
    return Raw(body, "text/calendar; charset=utf-8", headers)


@api.route(
    "GET",
    "/api/v1/public/webrtc",
    summary="The ICE servers browsers use for WHIP and WHEP",
    tag="public",
    response=WebRtcConfigOut,
)
async def webrtc_config(call: Call) -> WebRtcConfigOut:
    servers = call.resources.settings.ice_servers
    return WebRtcConfigOut(ice_servers=[IceServerOut(**s.model_dump()) for s in servers])
