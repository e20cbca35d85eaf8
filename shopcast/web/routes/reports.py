"""Reports: what an episode and a show brought, as JSON and as CSV files (docs/api.md, "Reports")."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shopcast.reports import service as reports
from shopcast.reports.schemas import EpisodeReport, ShowReport
from shopcast.reports.spreadsheet import EpisodeTable, ShowTable, episode_table, show_table
from shopcast.web.api import Api, Call, Raw

api = Api()


class EpisodeTableQuery(BaseModel):
    table: EpisodeTable = Field("products", description="Which of the report's tables.")


class ShowTableQuery(BaseModel):
    table: ShowTable = Field("episodes", description="Which of the report's tables.")


async def _episode_report(call: Call, episode_id: uuid.UUID) -> EpisodeReport:
    # What this process recorded is in it; other processes write theirs within a moment.
    await call.resources.facts.flush()
    return await reports.episode_report(call.session, actor=call.actor, episode_id=episode_id, now=call.now())


def _csv(body: bytes, filename: str) -> Raw:
    return Raw(body, "text/csv; charset=utf-8", {"Content-Disposition": f'attachment; filename="{filename}"'})


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/report",
    summary="What an episode brought: audience, chat, products, live and replay sales, minute by minute",
    tag="reports",
    response=EpisodeReport,
    access="signed-in",
    errors=(403, 404, 409),
)
async def episode_report(call: Call, episode_id: uuid.UUID) -> EpisodeReport:
    return await _episode_report(call, episode_id)


@api.route(
    "GET",
    "/api/v1/episodes/{episode_id}/report.csv",
    summary="One table of an episode's report as a CSV file",
    tag="reports",
    access="signed-in",
    produces="text/csv",
    errors=(403, 404, 409),
)
async def episode_report_csv(call: Call, episode_id: uuid.UUID, query: EpisodeTableQuery) -> Raw:
    report = await _episode_report(call, episode_id)
    day = report.episode.went_live_at.date().isoformat()
    return _csv(episode_table(report, query.table), f"episode-{day}-{query.table}.csv")


@api.route(
    "GET",
    "/api/v1/shows/{show_id}/report",
    summary="Every aired episode of a show, compared",
    tag="reports",
    response=ShowReport,
    access="signed-in",
    errors=(403, 404),
)
async def show_report(call: Call, show_id: uuid.UUID) -> ShowReport:
    await call.resources.facts.flush()
    return await reports.show_report(call.session, actor=call.actor, show_id=show_id, now=call.now())


@api.route(
    "GET",
    "/api/v1/shows/{show_id}/report.csv",
    summary="One table of a show's report as a CSV file",
    tag="reports",
    access="signed-in",
    produces="text/csv",
    errors=(403, 404),
)
async def show_report_csv(call: Call, show_id: uuid.UUID, query: ShowTableQuery) -> Raw:
    report = await show_report(call, show_id)
    return _csv(show_table(report, query.table), f"show-{query.table}.csv")
