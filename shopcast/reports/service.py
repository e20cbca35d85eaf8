"""The episode report and the show report, for the brand's managers: each domain counts its own facts
(chat.figures, catalog.figures, polls and giveaways), this module puts them side by side.

The live is from `went_live_at` to `ended_at` (to now while on air); the replay from `ended_at` on.
Nothing here is kept: a report is counted from the facts each time it is asked for, so it reads the
same after a restart and on any replica."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog import figures as shop
from shopcast.catalog.commerce import settings_of
from shopcast.chat import figures as room
from shopcast.contests import entries as giveaways
from shopcast.core.errors import Conflict
from shopcast.core.security import Principal, Role, authorize
from shopcast.core.sql_time import Period
from shopcast.live import service as live
from shopcast.live.models import Episode
from shopcast.polls import votes as polls
from shopcast.reports.schemas import (
    AudienceByPeriod,
    AudienceFigures,
    EngagementOut,
    EpisodeReport,
    EpisodeSummaryOut,
    MinuteOut,
    PinMarkOut,
    ProductFigures,
    ReportEpisodeOut,
    SalesByPeriod,
    SalesOut,
    ShowReport,
)

PREVIOUS_EPISODES = 5
SHOW_EPISODES = 52
_MINUTE = timedelta(minutes=1)


def _periods(episode: Episode, now: datetime) -> tuple[Period, Period]:
    """The episode's live and replay (empty while it is live)."""
    assert episode.went_live_at is not None
    end = episode.ended_at or now
    return Period(episode.went_live_at, end), Period(end, max(end, now))


def _ratio(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 4) if part is not None and whole else None


def _audience(figures: room.Audience, *, replay: bool) -> AudienceFigures:
    return AudienceFigures(
        unique_viewers=figures.unique_viewers,
        peak_viewers=figures.peak_viewers,
        average_viewers=None if replay else figures.average_viewers,
        watch_seconds=figures.watch_seconds,
        average_watch_seconds=figures.average_watch_seconds,
        median_watch_seconds=figures.median_watch_seconds,
    )


def _sales(figures: shop.Sales, viewers: int, *, recorded: bool) -> SalesOut:
    carts = figures.carts if recorded else None
    return SalesOut(
        viewers=viewers,
        carts=carts,
        adds=figures.adds if recorded else None,
        orders=figures.orders,
        buyers=figures.buyers,
        units=figures.units,
        revenue=figures.revenue,
        viewers_to_carts=_ratio(carts, viewers),
        carts_to_orders=_ratio(figures.buyers, carts),
        viewers_to_orders=_ratio(figures.buyers, viewers),
    )


async def _sold(session: AsyncSession, episode: Episode) -> tuple[shop.Sales, shop.Sales]:
    """The episode's live sales and replay sales."""
    assert episode.went_live_at is not None
    on_air = await shop.sales(session, episode_id=episode.id, start=episode.went_live_at, end=episode.ended_at)
    if episode.ended_at is None:
        return on_air, shop.Sales(0, 0, 0, 0, 0, 0)
    return on_air, await shop.sales(session, episode_id=episode.id, start=episode.ended_at, end=None)


async def _summary(
    session: AsyncSession, episode: Episode, *, show_title: str, staff: set[uuid.UUID], now: datetime
) -> EpisodeSummaryOut:
    on_air, replay = _periods(episode, now)
    audience = await room.audience(session, episode_id=episode.id, period=on_air, staff=staff, replay=False)
    replay_audience = await room.audience(session, episode_id=episode.id, period=replay, staff=staff, replay=True)
    chat = await room.chat_figures(session, episode_id=episode.id)
    live_sales, replay_sales = await _sold(session, episode)
    assert episode.went_live_at is not None
    return EpisodeSummaryOut(
        episode_id=episode.id,
        title=episode.title or show_title,
        starts_at=episode.starts_at,
        went_live_at=episode.went_live_at,
        ended_at=episode.ended_at,
        live_minutes=on_air.minutes,
        unique_viewers=audience.unique_viewers,
        peak_viewers=audience.peak_viewers,
        average_watch_seconds=audience.average_watch_seconds,
        watch_seconds=audience.watch_seconds,
        replay_viewers=replay_audience.unique_viewers,
        replay_watch_seconds=replay_audience.watch_seconds,
        messages=chat.messages,
        live_orders=live_sales.orders,
        live_revenue=live_sales.revenue,
        replay_orders=replay_sales.orders,
        replay_revenue=replay_sales.revenue,
        viewers_to_orders=_ratio(live_sales.buyers, audience.unique_viewers),
        replay_viewers_to_orders=_ratio(replay_sales.buyers, replay_audience.unique_viewers),
    )


async def _minutes(
    session: AsyncSession, episode_id: uuid.UUID, on_air: Period, staff: set[uuid.UUID]
) -> list[MinuteOut]:
    viewers = await room.viewers_by_minute(session, episode_id=episode_id, period=on_air, staff=staff)
    messages = await room.messages_by_minute(session, episode_id=episode_id, period=on_air)
    orders, revenue = await shop.sales_by_minute(session, episode_id=episode_id, period=on_air)
    return [
        MinuteOut(
            minute=at,
            at=on_air.start + (at * _MINUTE),
            viewers=viewers[at],
            messages=messages[at],
            orders=orders.get(at, 0),
            revenue=revenue.get(at, 0),
        )
        for at in range(on_air.minutes)
    ]


async def episode_report(
    session: AsyncSession, *, actor: Principal | None, episode_id: uuid.UUID, now: datetime
) -> EpisodeReport:
    """What one episode brought, live and replay apart (the brand's managers)."""
    episode = await live.load_episode(session, episode_id)
    authorize(actor, episode.brand_id, Role.MANAGER)
    if episode.went_live_at is None:
        raise Conflict("errors.report.not_aired")
    show = await live.load_show(session, episode.show_id)
    staff = await accounts.staff_ids(session, brand_id=episode.brand_id)
    on_air, replay = _periods(episode, now)
    live_audience = await room.audience(session, episode_id=episode.id, period=on_air, staff=staff, replay=False)
    replay_audience = await room.audience(session, episode_id=episode.id, period=replay, staff=staff, replay=True)
    chat = await room.chat_figures(session, episode_id=episode.id)
    polls_asked, votes, voters = await polls.participation(session, episode_id=episode.id)
    giveaways_opened, entries = await giveaways.participation(session, episode_id=episode.id)
    pins = await shop.pin_marks(session, episode_id=episode.id)
    recorded = not pins or await shop.facts_recorded(session, episode_id=episode.id)
    products = await shop.products(session, episode_id=episode.id, until=on_air.end)
    live_sales, replay_sales = await _sold(session, episode)
    previous = await live.aired_episodes(session, show_id=show.id, before=episode.went_live_at, limit=PREVIOUS_EPISODES)
    return EpisodeReport(
        episode=ReportEpisodeOut(
            id=episode.id,
            show_id=show.id,
            show_title=show.title,
            title=episode.title or show.title,
            status=episode.status,
            starts_at=episode.starts_at,
            went_live_at=episode.went_live_at,
            ended_at=episode.ended_at,
            time_zone=show.time_zone,
        ),
        currency=(await settings_of(session, episode.brand_id, now=now)).currency,
        computed_at=now,
        facts_recorded=recorded,
        audience=AudienceByPeriod(
            live=_audience(live_audience, replay=False), replay=_audience(replay_audience, replay=True)
        ),
        engagement=EngagementOut(
            messages=chat.messages,
            questions=chat.questions,
            answered_questions=chat.answered,
            reactions=chat.reactions,
            polls=polls_asked,
            poll_votes=votes,
            poll_voters=voters,
            giveaways=giveaways_opened,
            giveaway_entries=entries,
        ),
        products=[
            ProductFigures(
                product_id=p.product_id,
                title=p.title,
                pins=p.pins,
                seconds_on_screen=p.seconds_on_screen,
                card_views=p.card_views if recorded else None,
                replay_card_views=p.replay_card_views if recorded else None,
                adds=p.adds if recorded else None,
                units_added=p.units_added if recorded else None,
                orders=p.orders,
                units_sold=p.units_sold,
                revenue=p.revenue,
            )
            for p in products
        ],
        sales=SalesByPeriod(
            live=_sales(live_sales, live_audience.unique_viewers, recorded=recorded),
            replay=_sales(replay_sales, replay_audience.unique_viewers, recorded=recorded),
        ),
        minutes=await _minutes(session, episode.id, on_air, staff),
        pins=[
            PinMarkOut(
                product_id=pin.product_id,
                title=pin.title,
                shown_at=pin.shown_at,
                hidden_at=pin.hidden_at,
                minute=round((pin.shown_at - on_air.start).total_seconds() / 60, 2),
            )
            for pin in pins
        ],
        previous=[
            await _summary(session, earlier, show_title=show.title, staff=staff, now=now) for earlier in previous
        ],
    )


async def show_report(
    session: AsyncSession, *, actor: Principal | None, show_id: uuid.UUID, now: datetime
) -> ShowReport:
    """Every aired episode of a show (the last 52), compared (the brand's managers)."""
    show = await live.load_show(session, show_id)
    authorize(actor, show.brand_id, Role.MANAGER)
    staff = await accounts.staff_ids(session, brand_id=show.brand_id)
    aired = await live.aired_episodes(session, show_id=show.id, limit=SHOW_EPISODES)
    return ShowReport(
        show_id=show.id,
        title=show.title,
        time_zone=show.time_zone,
        currency=(await settings_of(session, show.brand_id, now=now)).currency,
        computed_at=now,
        episodes=[await _summary(session, e, show_title=show.title, staff=staff, now=now) for e in aired],
    )
