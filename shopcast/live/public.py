"""What viewers see without signing in: coming episodes, shows and their calendar feeds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.live.calendar import build_calendar, build_episode_calendar
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode, Show
from shopcast.live.schemas import EpisodeOut, EpisodePreview, PublicShowOut
from shopcast.live.service import (
    episodes_out,
    extend_schedule,
    is_upcoming,
    load_episode,
    load_show,
    show_out,
    upcoming_window,
)


async def public_brand_episodes(
    session: AsyncSession, *, brand_slug: str, now: datetime, weeks: int, limit: int
) -> list[EpisodeOut]:
    """The brand's coming and live episodes, soonest first."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    shows = {s.id: s for s in await session.scalars(select(Show).where(Show.brand_id == brand.id))}
    for show in shows.values():
        await extend_schedule(session, show, now=now, weeks=weeks)
    query = (
        select(Episode)
        .where(Episode.brand_id == brand.id, Episode.status != EpisodeStatus.CANCELLED, upcoming_window(now))
        .order_by(Episode.starts_at)
    )
    episodes = [e for e in await session.scalars(query) if is_upcoming(e, now)][:limit]
    return await episodes_out(session, episodes, shows)


async def public_show(session: AsyncSession, *, show_id: uuid.UUID) -> PublicShowOut:
    show = await load_show(session, show_id)
    brand = await accounts.get_brand_by_id(session, brand_id=show.brand_id)
    shared = show_out(show).model_dump(include=set(PublicShowOut.model_fields))
    return PublicShowOut(**shared, brand_slug=brand.slug, brand_name=brand.name)


async def public_show_episodes(
    session: AsyncSession, *, show_id: uuid.UUID, now: datetime, weeks: int
) -> list[EpisodeOut]:
    """The show's coming and live episodes (cancelled ones left out)."""
    show = await load_show(session, show_id)
    await extend_schedule(session, show, now=now, weeks=weeks)
    query = (
        select(Episode)
        .where(Episode.show_id == show.id, Episode.status != EpisodeStatus.CANCELLED, upcoming_window(now))
        .order_by(Episode.starts_at)
    )
    episodes = [e for e in await session.scalars(query) if is_upcoming(e, now)]
    return await episodes_out(session, episodes, {show.id: show})


async def public_episode(session: AsyncSession, *, episode_id: uuid.UUID) -> EpisodeOut:
    episode = await load_episode(session, episode_id)
    show = await load_show(session, episode.show_id)
    return (await episodes_out(session, [episode], {show.id: show}))[0]


async def episode_preview(session: AsyncSession, *, episode_id: uuid.UUID) -> EpisodePreview:
    """The episode as a link to its watch page previews it: its show, its brand, when it is."""
    episode = await load_episode(session, episode_id)
    show = await load_show(session, episode.show_id)
    brand = await accounts.get_brand_by_id(session, brand_id=episode.brand_id)
    (shown,) = await episodes_out(session, [episode], {show.id: show})
    return EpisodePreview(
        episode=shown,
        show_description=show.description,
        cover_image_url=show.cover_image_url,
        previous_starts_at=episode.occurrence_at if shown.is_moved else None,
        brand_name=brand.name,
        brand_language=brand.default_language,
    )


async def episode_calendar(session: AsyncSession, *, episode_id: uuid.UUID, now: datetime, watch_url: str) -> bytes:
    """One episode's calendar file."""
    episode = await load_episode(session, episode_id)
    show = await load_show(session, episode.show_id)
    brand = await accounts.get_brand_by_id(session, brand_id=show.brand_id)
    return build_episode_calendar(show, brand.name, episode, now=now, watch_url=watch_url)


async def show_calendar(session: AsyncSession, *, show_id: uuid.UUID, now: datetime, weeks: int) -> bytes:
    """The show's iCalendar feed."""
    show = await load_show(session, show_id)
    brand = await accounts.get_brand_by_id(session, brand_id=show.brand_id)
    await extend_schedule(session, show, now=now, weeks=weeks)
    episodes = await session.scalars(select(Episode).where(Episode.show_id == show.id))
    return build_calendar(show, brand.name, episodes, now=now)
