"""Shows and their episodes: planning, moving, cancelling, going live, public listings."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, ScalarSelect, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.core.bus import Bus
from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import Conflict, InvalidInput, NotFound
from shopcast.core.ids import new_id
from shopcast.core.security import Principal, Role, authorize
from shopcast.live import schedule
from shopcast.live.events import EVENT_FOR_STATUS, EpisodeStatusChanged, tell_room
from shopcast.live.lifecycle import EpisodeStatus, check_transition, is_editable
from shopcast.live.models import Episode, Show
from shopcast.live.schemas import (
    EpisodeCreate,
    EpisodeOut,
    EpisodeUpdate,
    ShowCreate,
    ShowOut,
    ShowUpdate,
)
from shopcast.reminders.waiting import awaited as reminders_waiting
from shopcast.webhooks import service as webhooks
from shopcast.webhooks.events import EPISODE_ENDED, EPISODE_LIVE

STAFF = (Role.MANAGER, Role.HOST, Role.MODERATOR)
WEBHOOK_FOR_STATUS = {EpisodeStatus.LIVE: EPISODE_LIVE, EpisodeStatus.ENDED: EPISODE_ENDED}
ON_AIR = (Role.MANAGER, Role.HOST)
MAX_MINUTES = 720  # the longest episode a show may plan
_SCHEDULE_FIELDS = {"time_zone", "first_episode_at", "rrule", "duration_minutes", "default_host_id"}


def calendar_path(show_id: uuid.UUID) -> str:
    return f"/api/v1/public/shows/{show_id}/calendar.ics"


def show_out(show: Show) -> ShowOut:
    return ShowOut(
        id=show.id,
        brand_id=show.brand_id,
        title=show.title,
        description=show.description,
        cover_image_url=show.cover_image_url,
        time_zone=show.time_zone,
        # Stored as the zone's wall-clock time; written with the zone's offset on that date.
        first_episode_at=show.first_episode_local.replace(tzinfo=ZoneInfo(show.time_zone)),
        rrule=show.rrule,
        duration_minutes=show.duration_minutes,
        default_host_id=show.default_host_id,
        calendar_path=calendar_path(show.id),
    )


async def episodes_out(
    session: AsyncSession, episodes: Sequence[Episode], shows: dict[uuid.UUID, Show]
) -> list[EpisodeOut]:
    names = await accounts.display_names(session, user_ids={e.host_id for e in episodes if e.host_id})
    out = []
    for e in episodes:
        show = shows[e.show_id]
        out.append(
            EpisodeOut(
                id=e.id,
                show_id=e.show_id,
                show_title=show.title,
                title=e.title or show.title,
                starts_at=e.starts_at,
                ends_at=e.starts_at + timedelta(minutes=e.duration_minutes),
                starts_at_local=schedule.to_local(e.starts_at, show.time_zone),
                time_zone=show.time_zone,
                duration_minutes=e.duration_minutes,
                status=e.status,
                host_id=e.host_id,
                host_name=names.get(e.host_id) if e.host_id else None,
                is_one_off=e.occurrence_at is None,
                is_moved=e.occurrence_at is not None and e.starts_at != e.occurrence_at,
                went_live_at=e.went_live_at,
                ended_at=e.ended_at,
            )
        )
    return out


async def load_show(session: AsyncSession, show_id: uuid.UUID) -> Show:
    show = await session.get(Show, show_id)
    if show is None:
        raise NotFound("errors.show.none", show_id=show_id)
    return show


def status_of(episode_id: uuid.UUID) -> ScalarSelect[EpisodeStatus]:
    """The episode's status (NULL for an unknown episode), as a subquery: for a use case that reads it
    in the same statement as its own rows (a chat message's checks: one round trip, not two)."""
    return select(Episode.status).where(Episode.id == episode_id).scalar_subquery()


async def load_episode(session: AsyncSession, episode_id: uuid.UUID, *, for_update: bool = False) -> Episode:
    query = select(Episode).where(Episode.id == episode_id)
    if for_update:
        query = query.with_for_update()
    episode = await session.scalar(query)
    if episode is None:
        raise NotFound("errors.episode.none", episode_id=episode_id)
    return episode


async def _check_host(session: AsyncSession, brand_id: uuid.UUID, host_id: uuid.UUID | None) -> None:
    if host_id is None:
        return
    role = await accounts.role_in_brand(session, user_id=host_id, brand_id=brand_id)
    if role not in ON_AIR:
        raise InvalidInput("errors.show.host")


async def extend_schedule(session: AsyncSession, show: Show, *, now: datetime, weeks: int, force: bool = False) -> None:
    """Make sure the show's episodes exist for the coming `weeks` (idempotent, safe to race)."""
    horizon = now + timedelta(weeks=weeks)
    if not force and show.scheduled_until is not None and show.scheduled_until >= horizon - timedelta(days=1):
        return
    start = now if force or show.scheduled_until is None else max(now, show.scheduled_until)
    slots = schedule.occurrences(show.rrule, show.first_episode_local, show.time_zone, start, horizon)
    if slots:
        rows = [
            {
                "id": new_id(),
                "show_id": show.id,
                "brand_id": show.brand_id,
                "occurrence_at": at,
                "starts_at": at,
                "duration_minutes": show.duration_minutes,
                "host_id": show.default_host_id,
                "status": EpisodeStatus.SCHEDULED,
                "created_at": now,
            }
            for at in slots
        ]
        await session.execute(insert_ignoring_duplicates(session, Episode.__table__), rows)
    show.scheduled_until = horizon
    await session.flush()


async def create_show(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, data: ShowCreate, now: datetime, weeks: int
) -> ShowOut:
    """Plan a weekly show and generate its coming episodes."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    await _check_host(session, brand.id, data.default_host_id)
    schedule.check_first_episode(data.first_episode_at, data.time_zone, now=now)
    schedule.check_rule_end(data.rrule, data.time_zone, now=now)
    first, rule = _anchor(data.rrule, schedule.wall_clock(data.first_episode_at, data.time_zone), data.time_zone, now)
    show = Show(
        id=new_id(),
        brand_id=brand.id,
        title=data.title,
        description=data.description,
        cover_image_url=data.cover_image_url,
        time_zone=data.time_zone,
        first_episode_local=first,
        rrule=rule,
        duration_minutes=data.duration_minutes,
        default_host_id=data.default_host_id,
        created_at=now,
        updated_at=now,
    )
    session.add(show)
    await session.flush()
    await extend_schedule(session, show, now=now, weeks=weeks)
    return show_out(show)


def _anchor(rule: str, wanted_local: datetime, zone: str, now: datetime) -> tuple[datetime, str]:
    """The series' real first slot on or after the wanted start, and the rule naming its weekday."""
    first = schedule.first_occurrence(rule, wanted_local)
    if first is None:
        raise InvalidInput("errors.show.no_episode")
    schedule.check_distinct_moments(rule, first, zone, now=now)
    return first, schedule.with_weekday(rule, first)


async def update_show(
    session: AsyncSession, *, actor: Principal | None, show_id: uuid.UUID, data: ShowUpdate, now: datetime, weeks: int
) -> ShowOut:
    """Change a show; a new schedule replaces future episodes nobody moved or cancelled."""
    show = await load_show(session, show_id)
    authorize(actor, show.brand_id, Role.MANAGER)
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "time_zone", "rrule", "duration_minutes"):
        if name in changes and changes[name] is None:
            raise InvalidInput("errors.show.empty", name=name)
    if "default_host_id" in changes:
        await _check_host(session, show.brand_id, changes["default_host_id"])
    old_defaults = (show.duration_minutes, show.default_host_id)
    zone = changes.get("time_zone", show.time_zone)
    first = show.first_episode_local
    wanted = changes.get("first_episode_at")
    if wanted is not None:
        # A client sending the show back as it read it may repeat a first episode now long past.
        if schedule.wall_clock(wanted, show.time_zone) != first:
            schedule.check_first_episode(wanted, zone, now=now)
        first = schedule.wall_clock(wanted, zone)
    if changes.get("rrule") is not None:
        schedule.check_rule_end(changes["rrule"], zone, now=now)
    show.first_episode_local, show.rrule = _anchor(changes.get("rrule", show.rrule), first, zone, now)
    for name in ("title", "description", "cover_image_url", "time_zone", "duration_minutes", "default_host_id"):
        if name in changes:
            setattr(show, name, changes[name] if name != "description" else (changes[name] or ""))
    show.updated_at = now
    if _SCHEDULE_FIELDS & changes.keys():
        await _follow_schedule(session, show, old_defaults, now=now, weeks=weeks)
    await session.flush()
    return show_out(show)


# A coming episode keeps to its week: on a new day or time it takes the new slot nearest to its own, if there
# is one within half a week (every other week: one of two episodes finds none).
_SAME_WEEK = timedelta(days=3.5)


async def _follow_schedule(
    session: AsyncSession, show: Show, old_defaults: tuple[int, uuid.UUID | None], *, now: datetime, weeks: int
) -> None:
    """Coming episodes keep to their week on the show's new schedule, with their id and what was planned for them.

    Each takes the new slot nearest to its own (`_SAME_WEEK`): one nobody moved starts then, with the show's new
    duration and host where it had the old ones (`old_defaults`); a moved one stays where it was moved to, and a
    cancelled one stays cancelled, each holding its week's slot. New slots left over become episodes; an episode
    left without a slot goes, unless it was moved, cancelled or given a title, host or duration of its own; one
    that viewers asked to be reminded of is cancelled instead (they are told).
    """
    old_duration, old_host = old_defaults
    coming = list(
        await session.scalars(
            select(Episode)
            .where(
                Episode.show_id == show.id,
                Episode.status.in_((EpisodeStatus.SCHEDULED, EpisodeStatus.CANCELLED)),
                Episode.occurrence_at > now,
            )
            .order_by(Episode.occurrence_at)
            .with_for_update()
        )
    )
    horizon = now + timedelta(weeks=weeks)
    held = set(await session.scalars(select(Episode.occurrence_at).where(Episode.show_id == show.id)))
    held -= {e.occurrence_at for e in coming}
    new_slots = schedule.occurrences(show.rrule, show.first_episode_local, show.time_zone, now, horizon)
    free = [slot for slot in new_slots if slot not in held]
    paired = schedule.nearest_slots([e.occurrence_at for e in coming], free, within=_SAME_WEEK)
    moving, leaving = [], []
    for episode, slot in zip(coming, paired, strict=True):
        on_its_slot = episode.starts_at == episode.occurrence_at
        if slot is not None:
            moving.append((episode, slot, on_its_slot))
            continue
        own = episode.title is not None or (episode.duration_minutes, episode.host_id) != old_defaults
        if on_its_slot and episode.status == EpisodeStatus.SCHEDULED and not own:
            leaving.append(episode)
    # One that viewers asked to be reminded of is cancelled rather than deleted: they are told it will not air.
    waited_for = await reminders_waiting(session, [episode.id for episode in leaving])
    for episode in leaving:
        if episode.id in waited_for:
            episode.status = EpisodeStatus.CANCELLED
        else:
            await session.delete(episode)
    # Out of their old slots first: one may take a slot another still holds (the show's slots are unique).
    for episode, _, _ in moving:
        episode.occurrence_at = None
    await session.flush()
    for episode, slot, on_its_slot in moving:
        episode.occurrence_at = slot
        if not on_its_slot:
            continue
        episode.starts_at = slot
        if episode.duration_minutes == old_duration:
            episode.duration_minutes = show.duration_minutes
        if episode.host_id == old_host:
            episode.host_id = show.default_host_id
    await session.flush()
    await extend_schedule(session, show, now=now, weeks=weeks, force=True)


async def get_show(session: AsyncSession, *, actor: Principal | None, show_id: uuid.UUID) -> ShowOut:
    show = await load_show(session, show_id)
    authorize(actor, show.brand_id, *STAFF)
    return show_out(show)


async def list_shows(session: AsyncSession, *, actor: Principal | None, brand_slug: str) -> list[ShowOut]:
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, *STAFF)
    shows = await session.scalars(select(Show).where(Show.brand_id == brand.id).order_by(Show.title))
    return [show_out(s) for s in shows]


def upcoming_window(now: datetime) -> ColumnElement[bool]:
    """Rows that may still be to come: live, or starting no earlier than the longest episode ago."""
    return (Episode.status == EpisodeStatus.LIVE) | (Episode.starts_at >= now - timedelta(minutes=MAX_MINUTES))


def is_upcoming(episode: Episode, now: datetime) -> bool:
    if episode.status == EpisodeStatus.LIVE:
        return True
    ends_at = episode.starts_at + timedelta(minutes=episode.duration_minutes)
    return episode.status != EpisodeStatus.ENDED and ends_at > now


async def list_show_episodes(
    session: AsyncSession, *, actor: Principal | None, show_id: uuid.UUID, now: datetime, weeks: int, include_past: bool
) -> list[EpisodeOut]:
    """The show's episodes for its staff, cancelled ones included."""
    show = await load_show(session, show_id)
    authorize(actor, show.brand_id, *STAFF)
    await extend_schedule(session, show, now=now, weeks=weeks)
    query = select(Episode).where(Episode.show_id == show.id).order_by(Episode.starts_at)
    if not include_past:
        query = query.where(upcoming_window(now))
    episodes = [e for e in await session.scalars(query) if include_past or is_upcoming(e, now)]
    return await episodes_out(session, episodes, {show.id: show})


async def aired_episodes(
    session: AsyncSession, *, show_id: uuid.UUID, before: datetime | None = None, limit: int
) -> list[Episode]:
    """The show's episodes that went live (before `before`, if given): the last `limit`, oldest first."""
    query = select(Episode).where(Episode.show_id == show_id, Episode.went_live_at.is_not(None))
    if before is not None:
        query = query.where(Episode.went_live_at < before)
    found = list(await session.scalars(query.order_by(Episode.went_live_at.desc()).limit(limit)))
    return found[::-1]


async def add_episode(
    session: AsyncSession, *, actor: Principal | None, show_id: uuid.UUID, data: EpisodeCreate, now: datetime
) -> EpisodeOut:
    """Add a one-off episode to a show, outside its weekly slot."""
    show = await load_show(session, show_id)
    authorize(actor, show.brand_id, Role.MANAGER)
    host_id = data.host_id if data.host_id is not None else show.default_host_id
    await _check_host(session, show.brand_id, data.host_id)
    starts_at = schedule.check_episode_start(data.starts_at, show.time_zone, now=now, moved=False)
    episode = Episode(
        id=new_id(),
        show_id=show.id,
        brand_id=show.brand_id,
        occurrence_at=None,
        starts_at=starts_at,
        duration_minutes=data.duration_minutes or show.duration_minutes,
        title=data.title,
        host_id=host_id,
        status=EpisodeStatus.SCHEDULED,
        created_at=now,
    )
    session.add(episode)
    await session.flush()
    return (await episodes_out(session, [episode], {show.id: show}))[0]


async def update_episode(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, data: EpisodeUpdate, now: datetime
) -> EpisodeOut:
    """Move or change one episode; the rest of the series is untouched."""
    episode = await load_episode(session, episode_id, for_update=True)
    show = await load_show(session, episode.show_id)
    authorize(actor, episode.brand_id, Role.MANAGER)
    if not is_editable(episode.status):
        raise Conflict("errors.episode.not_editable", status=episode.status.word)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("starts_at") is not None:
        episode.starts_at = schedule.check_episode_start(changes["starts_at"], show.time_zone, now=now, moved=True)
    if changes.get("duration_minutes") is not None:
        episode.duration_minutes = changes["duration_minutes"]
    if "title" in changes:
        episode.title = changes["title"]
    if "host_id" in changes:
        await _check_host(session, episode.brand_id, changes["host_id"])
        episode.host_id = changes["host_id"]
    await session.flush()
    return (await episodes_out(session, [episode], {show.id: show}))[0]


async def change_status(
    session: AsyncSession,
    *,
    actor: Principal | None,
    episode_id: uuid.UUID,
    to: EpisodeStatus,
    now: datetime,
    bus: Bus,
) -> EpisodeOut:
    """Move an episode through its lifecycle; the episode's room hears about it once committed."""
    episode = await load_episode(session, episode_id, for_update=True)
    authorize(actor, episode.brand_id, *(ON_AIR if to != EpisodeStatus.CANCELLED else (Role.MANAGER,)))
    await _transition(session, episode, to, now=now, bus=bus)
    return await _episode_out(session, episode)


async def _transition(session: AsyncSession, episode: Episode, to: EpisodeStatus, *, now: datetime, bus: Bus) -> None:
    check_transition(episode.status, to)
    # A conditional update, so two hosts pressing "Go live" at once cannot both win.
    result = await session.execute(
        update(Episode)
        .where(Episode.id == episode.id, Episode.status == episode.status)
        .values(
            status=to,
            went_live_at=now if to == EpisodeStatus.LIVE else Episode.went_live_at,
            ended_at=now if to == EpisodeStatus.ENDED else Episode.ended_at,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await session.refresh(episode)
        check_transition(episode.status, to)
    await session.refresh(episode)
    event = EpisodeStatusChanged(episode_id=episode.id, status=to, at=now)
    tell_room(session, bus, episode.id, EVENT_FOR_STATUS[to], event.model_dump(mode="json"))
    if hook := WEBHOOK_FOR_STATUS.get(to):
        data = await _episode_out(session, episode)
        await webhooks.emit(
            session, brand_id=episode.brand_id, event=hook, data=data, now=now, about=f"episode:{episode.id}"
        )


async def _episode_out(session: AsyncSession, episode: Episode) -> EpisodeOut:
    show = await load_show(session, episode.show_id)
    return (await episodes_out(session, [episode], {show.id: show}))[0]


# --- the video: who may publish and watch, and what publishing does to the lifecycle --------


async def check_publisher(session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID) -> EpisodeOut:
    """A host or manager of the brand may publish a scheduled or live episode's video."""
    episode = await load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *ON_AIR)
    if episode.status not in (EpisodeStatus.SCHEDULED, EpisodeStatus.LIVE):
        raise Conflict("errors.episode.not_publishable", status=episode.status.word)
    return await _episode_out(session, episode)


async def go_live(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime, bus: Bus
) -> EpisodeOut:
    """The host's video arrived: a scheduled episode goes live, a live one (host reconnecting) stays live."""
    episode = await load_episode(session, episode_id, for_update=True)
    authorize(actor, episode.brand_id, *ON_AIR)
    if episode.status != EpisodeStatus.LIVE:
        await _transition(session, episode, EpisodeStatus.LIVE, now=now, bus=bus)
    return await _episode_out(session, episode)


async def end_abandoned(session: AsyncSession, *, episode_id: uuid.UUID, now: datetime, bus: Bus) -> None:
    """The host's connection did not come back: the server ends the live episode (no caller to authorise)."""
    episode = await load_episode(session, episode_id, for_update=True)
    if episode.status == EpisodeStatus.LIVE:
        await _transition(session, episode, EpisodeStatus.ENDED, now=now, bus=bus)


async def check_watchable(session: AsyncSession, *, episode_id: uuid.UUID) -> EpisodeOut:
    """Anyone may watch a live episode."""
    episode = await load_episode(session, episode_id)
    if episode.status != EpisodeStatus.LIVE:
        raise Conflict(
            {
                EpisodeStatus.SCHEDULED: "errors.episode.not_started",
                EpisodeStatus.ENDED: "errors.episode.ended",
                EpisodeStatus.CANCELLED: "errors.episode.cancelled",
            }[episode.status]
        )
    return await _episode_out(session, episode)


async def check_replayable(session: AsyncSession, *, episode_id: uuid.UUID) -> Episode:
    """An episode whose show is over: its replay's viewers are counted (its live room counts the live's)."""
    episode = await load_episode(session, episode_id)
    if episode.status != EpisodeStatus.ENDED or episode.ended_at is None:
        raise Conflict("errors.replay.not_over", status=episode.status.word)
    return episode


async def check_staff(session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID) -> EpisodeOut:
    """The episode, for its brand's staff only."""
    episode = await load_episode(session, episode_id)
    authorize(actor, episode.brand_id, *STAFF)
    return await _episode_out(session, episode)


async def live_episode_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every episode marked live (to find shows left on air by a crash)."""
    return list(await session.scalars(select(Episode.id).where(Episode.status == EpisodeStatus.LIVE)))


async def episode_names(
    session: AsyncSession, *, episode_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, datetime]]:
    """Each episode's title (its own, else its show's) and start: how a list of what was bought names it."""
    if not episode_ids:
        return {}
    rows = await session.execute(
        select(Episode.id, func.coalesce(Episode.title, Show.title), Episode.starts_at)
        .join(Show, Show.id == Episode.show_id)
        .where(Episode.id.in_(episode_ids))
    )
    return {episode_id: (title, starts_at) for episode_id, title, starts_at in rows.all()}
