"""Product feeds: a brand's catalog as CSV or JSON rows, one row per variant, imported in one go.

Columns (CSV header, or keys of each JSON object): handle, title, summary, description,
image_urls (space- or comma-separated), price and compare_at_price in major units ("49.90"),
currency, sku, options ("size=M; colour=Red"), stock. Rows with the same handle are one product
(its product fields come from its first row). Good products are saved; each bad row is reported
with its line (CSV: the file's line, the header being line 1; JSON: the item's number from 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Brand
from shopcast.catalog.products import CATALOG_EDITORS, handle_from, save_product
from shopcast.catalog.schemas import ImportError_, ImportIn, ImportReport, ProductIn
from shopcast.core.bus import Bus
from shopcast.core.errors import InvalidInput, InvalidValue, Phrase, ShopcastError, field_reason
from shopcast.core.security import Principal, authorize

COLUMNS = (
    "handle",
    "title",
    "summary",
    "description",
    "image_urls",
    "price",
    "compare_at_price",
    "currency",
    "sku",
    "options",
    "stock",
)
MAX_ROWS = 20_000
Progress = Callable[[int, int], None]  # (products done, products in all)


@dataclass
class _Product:
    line: int
    fields: dict[str, Any]
    variants: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _minor_units(raw: str, name: str) -> int | None:
    """ "49.90" → 4990; empty → None."""
    if not raw:
        return None
    try:
        amount = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise InvalidValue("errors.feed.not_an_amount", name=name, raw=raw) from None
    cents = amount * 100
    if cents != cents.to_integral_value() or cents < 0:
        raise InvalidValue("errors.feed.amount", name=name, raw=raw)
    return int(cents)


def _options(row: dict[str, Any]) -> dict[str, str]:
    raw = row.get("options")
    if isinstance(raw, dict):  # a JSON feed may give them as an object, as JSON does
        return {str(name): "" if value is None else str(value) for name, value in raw.items()}
    options = {}
    for part in filter(None, (p.strip() for p in _text(row, "options").split(";"))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidValue("errors.feed.option", part=part)
        options[name.strip()] = value.strip()
    return options


def _image_urls(row: dict[str, Any]) -> list[str]:
    raw = row.get("image_urls")
    if isinstance(raw, list):  # a JSON feed may give them as a list
        return [str(url).strip() for url in raw]
    return _text(row, "image_urls").replace(",", " ").split()


def _stock(raw: str) -> int:
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise InvalidValue("errors.feed.stock", raw=raw) from None


def read_rows(data: ImportIn) -> list[tuple[int, dict[str, Any]]]:
    """The feed's rows with their lines; a feed that cannot be read at all is a 422."""
    if data.format == "json":
        try:
            items = orjson.loads(data.content)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput("errors.feed.not_json", error=str(exc)) from None
        if not isinstance(items, list):
            raise InvalidInput("errors.feed.not_a_list")
        rows = [(n, item if isinstance(item, dict) else {"_bad": item}) for n, item in enumerate(items, start=1)]
    else:
        reader = csv.DictReader(io.StringIO(data.content.lstrip("\ufeff")))
        missing = {"title", "price", "sku"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput("errors.feed.header", columns=", ".join(sorted(missing)))
        rows = [(reader.line_num, row) for row in reader]
    if len(rows) > MAX_ROWS:
        raise InvalidInput("errors.feed.too_many_rows", count=MAX_ROWS)
    return rows


def _group(rows: list[tuple[int, dict[str, Any]]], errors: list[ImportError_]) -> list[_Product]:
    """Rows read into products (by handle, in the feed's order); unreadable rows go to `errors`."""
    found: dict[str, _Product] = {}
    for line, row in rows:
        try:
            if "_bad" in row:
                raise InvalidValue("errors.feed.not_an_object")
            title = _text(row, "title")
            handle = (_text(row, "handle") or handle_from(title)).lower()
            if not title and handle not in found:
                raise InvalidValue("errors.feed.no_title")
            variant = {
                "sku": _text(row, "sku"),
                "options": _options(row),
                "stock": _stock(_text(row, "stock")),
                "price": None,
            }
            product = found.get(handle)
            if product is None:
                product = found[handle] = _Product(
                    line,
                    {
                        "handle": handle,
                        "title": title,
                        "summary": _text(row, "summary"),
                        "description": _text(row, "description"),
                        "image_urls": _image_urls(row),
                        "price": _minor_units(_text(row, "price"), "price"),
                        "compare_at_price": _minor_units(_text(row, "compare_at_price"), "compare_at_price"),
                        "currency": _text(row, "currency") or None,
                    },
                )
            else:
                # A later row of the product may price its variant differently.
                price = _minor_units(_text(row, "price"), "price")
                variant["price"] = price if price != product.fields["price"] else None
            product.variants.append(variant)
            product.lines.append(line)
        except InvalidValue as exc:
            errors.append(ImportError_(line=line, reason=exc.reason))
    return list(found.values())


def _reasons(error: ValidationError, product: _Product) -> list[ImportError_]:
    problems = []
    for err in error.errors(include_url=False):
        where = [str(p) for p in err["loc"]]
        line = product.line
        if len(where) >= 2 and where[0] == "variants" and where[1].isdigit():
            line = product.lines[int(where[1])]
            where = where[2:] or ["variant"]
        reason = Phrase("errors.field.reason", field=".".join(where), reason=field_reason(err))
        problems.append(ImportError_(line=line, reason=reason))
    return problems


async def import_rows(
    session: AsyncSession,
    *,
    brand: Brand,
    rows: list[tuple[int, dict[str, Any]]],
    now: datetime,
    bus: Bus | None,
    progress: Progress | None = None,
) -> ImportReport:
    errors: list[ImportError_] = []
    grouped = _group(rows, errors)
    created = updated = variants = 0
    for done, product in enumerate(grouped, start=1):
        try:
            data = ProductIn.model_validate({**product.fields, "variants": product.variants})
            # save_product checks everything before it writes, so a refused product leaves nothing behind.
            _, new = await save_product(session, brand=brand, data=data, now=now, bus=bus)
        except ValidationError as exc:
            errors.extend(_reasons(exc, product))
        except ShopcastError as exc:
            errors.extend(ImportError_(line=line, reason=exc.reason) for line in product.lines)
        else:
            created += new
            updated += not new
            variants += len(data.variants)
        if progress is not None:
            progress(done, len(grouped))
    errors.sort(key=lambda e: e.line)
    return ImportReport(rows=len(rows), created=created, updated=updated, variants=variants, errors=errors)


async def import_feed(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, data: ImportIn, now: datetime, bus: Bus
) -> ImportReport:
    """Import a feed sent over HTTP (managers)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, *CATALOG_EDITORS)
    return await import_rows(session, brand=brand, rows=read_rows(data), now=now, bus=bus)
