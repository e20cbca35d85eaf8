"""A report's tables as CSV files a spreadsheet opens safely (shopcast.core.spreadsheet): text that
could be a formula kept as text, numbers written as numbers, a byte order mark; the header row names
each column as the JSON report does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from shopcast.core.spreadsheet import Sheet
from shopcast.reports.schemas import EpisodeReport, EpisodeSummaryOut, MinuteOut, PinMarkOut, ProductFigures, ShowReport

EpisodeTable = Literal["audience", "engagement", "products", "sales", "minutes", "pins", "previous"]
ShowTable = Literal["episodes"]


def csv_file(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    sheet = Sheet()
    sheet.row(columns)
    for row in rows:
        sheet.row(row)
    return sheet.bytes()


def _records(items: Sequence[BaseModel], model: type[BaseModel]) -> tuple[list[str], list[list[Any]]]:
    columns = list(model.model_fields)
    return columns, [[getattr(item, c) for c in columns] for item in items]


def _live_and_replay(live: BaseModel, replay: BaseModel) -> tuple[list[str], list[list[Any]]]:
    names = type(live).model_fields
    return ["figure", "live", "replay"], [[name, getattr(live, name), getattr(replay, name)] for name in names]


def episode_table(report: EpisodeReport, table: EpisodeTable) -> bytes:
    """One table of the episode's report as a CSV file."""
    if table == "audience":
        columns, rows = _live_and_replay(report.audience.live, report.audience.replay)
    elif table == "sales":
        columns, rows = _live_and_replay(report.sales.live, report.sales.replay)
    elif table == "engagement":
        columns, rows = ["figure", "value"], [[k, v] for k, v in report.engagement.model_dump().items()]
    elif table == "products":
        columns, rows = _records(report.products, ProductFigures)
    elif table == "minutes":
        columns, rows = _records(report.minutes, MinuteOut)
    elif table == "pins":
        columns, rows = _records(report.pins, PinMarkOut)
    else:
        columns, rows = _records(report.previous, EpisodeSummaryOut)
    return csv_file(columns, rows)


def show_table(report: ShowReport, table: ShowTable) -> bytes:
    """One table of the show's report as a CSV file."""
    return csv_file(*_records(report.episodes, EpisodeSummaryOut))
