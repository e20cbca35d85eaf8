"""The episode report and the show report, as the API gives them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from shopcast.live.lifecycle import EpisodeStatus


class AudienceFigures(BaseModel):
    """Who watched during a period (the live, or the replay so far); the brand's staff left out."""

    unique_viewers: int = Field(description="Viewers (an account, a guest, an anonymous page) who watched at all.")
    peak_viewers: int = Field(description="The most viewers watching at the same moment.")
    average_viewers: float | None = Field(
        description="Viewers watching at once, on average over the live (None for the replay: it has no end)."
    )
    watch_seconds: int = Field(description="Time watched, all viewers together.")
    average_watch_seconds: int = Field(description="Time watched per viewer, on average.")
    median_watch_seconds: int = Field(description="Time watched by the viewer in the middle.")


class AudienceByPeriod(BaseModel):
    live: AudienceFigures
    replay: AudienceFigures


class EngagementOut(BaseModel):
    """What the audience did in the room, live and replay together."""

    messages: int = Field(description="Chat messages kept (not deleted, not from a shadow-banned viewer).")
    questions: int = Field(description="Of those, the questions asked.")
    answered_questions: int = Field(description="Questions the host marked answered.")
    reactions: int = Field(description="Reactions sent.")
    polls: int = Field(description="Polls put to the audience.")
    poll_votes: int = Field(description="Votes in them, one per viewer and poll.")
    poll_voters: int = Field(description="Viewers who voted in at least one.")
    giveaways: int = Field(description="Giveaways opened to entries.")
    giveaway_entries: int = Field(description="Entries in them.")


class ProductFigures(BaseModel):
    """One product the episode pinned (or sold from its cards): live and replay together."""

    product_id: uuid.UUID
    title: str
    pins: int = Field(description="Times it was pinned.")
    seconds_on_screen: int = Field(description="Time its card was on screen, its pins together.")
    card_views: int | None = Field(
        description="Viewers' pages that showed its card, once per viewer and pin during the live, and once more "
        "over the replay."
    )
    replay_card_views: int | None = Field(description="Of those, the replay's: its card shown over the recording.")
    adds: int | None = Field(description="Times it was put in a cart from the episode's card.")
    units_added: int | None = Field(description="Units put in carts so.")
    orders: int = Field(description="Orders with it (cancelled ones left out).")
    units_sold: int
    revenue: int = Field(description="What its order lines came to, in minor units of the report's currency.")


class SalesOut(BaseModel):
    """The shop in a period: viewers → carts → orders (the live: placed while live; the replay: after)."""

    viewers: int = Field(description="The period's unique viewers.")
    carts: int | None = Field(description="Viewers who put something in their cart from the episode's cards.")
    adds: int | None = Field(description="Times something was put in a cart from them.")
    orders: int
    buyers: int = Field(description="Viewers who placed those orders.")
    units: int
    revenue: int = Field(description="Minor units of the report's currency (the order lines, without shipping).")
    viewers_to_carts: float | None = Field(description="carts / viewers (None without viewers or carts recorded).")
    carts_to_orders: float | None = Field(description="buyers / carts.")
    viewers_to_orders: float | None = Field(description="buyers / viewers.")


class SalesByPeriod(BaseModel):
    live: SalesOut
    replay: SalesOut


class MinuteOut(BaseModel):
    """One minute of the live."""

    minute: int = Field(description="Minutes since the episode went live: 0, 1, …")
    at: datetime
    viewers: int = Field(description="Viewers who watched during that minute.")
    messages: int
    orders: int = Field(description="Orders placed that minute (with products of the episode's cards).")
    revenue: int


class PinMarkOut(BaseModel):
    """A pin, to mark on the chart."""

    product_id: uuid.UUID
    title: str
    shown_at: datetime
    hidden_at: datetime | None
    minute: float = Field(description="When it was shown, in minutes since the episode went live.")


class EpisodeSummaryOut(BaseModel):
    """An episode's main figures, to compare episodes of a show: `unique_viewers` to
    `average_watch_seconds` are the live's, the replay's viewers and watch time are apart."""

    episode_id: uuid.UUID
    title: str
    starts_at: datetime
    went_live_at: datetime
    ended_at: datetime | None
    live_minutes: int
    unique_viewers: int
    peak_viewers: int
    average_watch_seconds: int
    watch_seconds: int = Field(description="The live's watch time, all viewers together.")
    replay_viewers: int = Field(description="The replay's unique viewers so far.")
    replay_watch_seconds: int = Field(description="The replay's watch time so far, all its viewers together.")
    messages: int
    live_orders: int
    live_revenue: int
    replay_orders: int
    replay_revenue: int
    viewers_to_orders: float | None = Field(description="The live's buyers / its viewers.")
    replay_viewers_to_orders: float | None = Field(description="The replay's buyers / its viewers.")


class ReportEpisodeOut(BaseModel):
    id: uuid.UUID
    show_id: uuid.UUID
    show_title: str
    title: str
    status: EpisodeStatus
    starts_at: datetime
    went_live_at: datetime
    ended_at: datetime | None
    time_zone: str


class EpisodeReport(BaseModel):
    """What one episode brought (docs/api.md, "Reports")."""

    episode: ReportEpisodeOut
    currency: str
    computed_at: datetime
    facts_recorded: bool = Field(
        description="False for an episode from before cards seen and adds to cart were recorded: those are None."
    )
    audience: AudienceByPeriod
    engagement: EngagementOut
    products: list[ProductFigures]
    sales: SalesByPeriod
    minutes: list[MinuteOut]
    pins: list[PinMarkOut]
    previous: list[EpisodeSummaryOut] = Field(
        description="The show's episodes before this one (at most 5), oldest first."
    )


class ShowReport(BaseModel):
    """Every aired episode of a show, compared (docs/api.md, "Reports")."""

    show_id: uuid.UUID
    title: str
    time_zone: str
    currency: str
    computed_at: datetime
    episodes: list[EpisodeSummaryOut] = Field(description="Oldest first, at most the last 52.")
