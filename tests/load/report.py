"""The episode report on a big show: how long it takes to count, and to export as CSV.

One episode of two hours with 5,000 viewers (about 7,500 watch sessions: some come back), 50,000
chat messages, 200 pins of 40 products, each pin's card seen by the viewers watching then, 6,000
adds to cart and 2,000 orders (a fifth after the show: replay sales); and in the three days after,
half as many viewers playing the replay (one to three stretches each, as their players' beats leave
them), each card over what they played seen again, as the replay's; written straight into the
database in bulk. Then the report is counted through the service (as `GET …/report` does, less
HTTP) and every table exported as CSV, three times each; the best time is printed. On PostgreSQL it
runs in a scratch database it creates and drops (never the tests' `test`); on SQLite in a file
of a temporary folder.

    .venv/bin/python -m tests.load.report [--databases postgresql,sqlite] [--viewers 5000]

`SHOPCAST_BENCH_POSTGRES` names the server (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Table, insert

from shopcast.accounts import service as accounts
from shopcast.accounts.models import Membership
from shopcast.catalog.models import CardView, CartAddition, Order, OrderLine, Pin, Product, Variant
from shopcast.chat.models import ChatMessage, WatchSession
from shopcast.core import migrate
from shopcast.core.db import Database, create_engine
from shopcast.core.ids import new_id
from shopcast.core.security import Role
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode, Show
from shopcast.reports import service as reports
from shopcast.reports.spreadsheet import episode_table
from tests.load.harness import machine, markdown_table, wait_for_quiet

ADMIN_DSN = os.environ.get("SHOPCAST_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 9, 22, 17, 0, tzinfo=UTC)
LIVE = timedelta(hours=2)
CHUNK = 5000
TABLES = ("audience", "engagement", "products", "sales", "minutes", "pins", "previous")


async def bulk(database: Database, table: Table, rows: list[dict[str, Any]]) -> None:
    for first in range(0, len(rows), CHUNK):
        async with database.transaction() as session:
            await session.execute(insert(table), rows[first : first + CHUNK])


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=round(seconds, 3))


async def generate(database: Database, viewers: int, rng: random.Random) -> tuple[uuid.UUID, Any, dict[str, int]]:
    """The brand, its manager, the show, the aired episode and its facts; (episode id, manager, row counts)."""
    now = START + LIVE + timedelta(days=3)
    async with database.transaction() as session:
        brand = await accounts.create_brand(session, slug="bench", name="Bench", now=now)
        user = await accounts.add_user(
            session, email="manager@bench.test", password="bench password", role=Role.MANAGER, brand=brand, now=now
        )
        manager = await accounts.load_principal(session, user_id=user.id)
        assert await session.get(Membership, (user.id, brand.id)) is not None
        show = Show(
            brand_id=brand.id,
            title="Bench Live",
            time_zone="Europe/Paris",
            first_episode_local=datetime(2026, 9, 22, 19),
            rrule="FREQ=WEEKLY;BYDAY=TU",
            duration_minutes=120,
            created_at=now,
            updated_at=now,
        )
        session.add(show)
        await session.flush()
        episode = Episode(
            show_id=show.id,
            brand_id=brand.id,
            occurrence_at=START,
            starts_at=START,
            duration_minutes=120,
            status=EpisodeStatus.ENDED,
            went_live_at=START,
            ended_at=START + LIVE,
            created_at=now,
        )
        session.add(episode)
        products = [
            Product(
                brand_id=brand.id,
                handle=f"p{n}",
                title=f"=Product {n}" if n == 0 else f"Product {n}",
                price=1000 + 100 * n,
                currency="EUR",
                created_at=now,
                updated_at=now,
            )
            for n in range(40)
        ]
        session.add_all(products)
        await session.flush()
        variants = [
            Variant(product_id=p.id, brand_id=brand.id, sku=f"S{i}", stock=10_000) for i, p in enumerate(products)
        ]
        session.add_all(variants)
        await session.flush()
        episode_id, brand_id = episode.id, brand.id
        catalog = [(p.id, v.id, p.price) for p, v in zip(products, variants, strict=True)]
    seconds = LIVE.total_seconds()
    audience = [new_id() for _ in range(viewers)]
    spans: dict[uuid.UUID, list[tuple[float, float]]] = {}
    sessions = []
    for viewer in audience:
        joined = min(seconds - 60, rng.expovariate(1 / 900))
        for _ in range(1 + (rng.random() < 0.5)):
            left = min(seconds + 1800, joined + rng.uniform(120, 3600))
            spans.setdefault(viewer, []).append((joined, left))
            sessions.append(
                {"id": new_id(), "episode_id": episode_id, "viewer_kind": "guest", "viewer_id": viewer}
                | {"joined_at": at(joined), "left_at": at(left)}
            )
            joined = left + rng.uniform(10, 900)
            if joined >= seconds:
                break
    await bulk(database, WatchSession.__table__, sessions)
    messages = []
    for _ in range(50_000):
        viewer = rng.choice(audience)
        messages.append(
            {"id": new_id(), "episode_id": episode_id, "brand_id": brand_id, "author_kind": "guest"}
            | {"author_id": viewer, "author_ref": viewer.hex[:20], "author_name": "Viewer", "author_role": "viewer"}
            | {"text": "Love it", "question": rng.random() < 0.1, "shadowed": False}
            | {"created_at": at(rng.uniform(0, seconds))}
        )
    messages.sort(key=lambda m: m["created_at"])
    await bulk(database, ChatMessage.__table__, messages)
    pins, views = [], []
    every = seconds / 200
    for n in range(200):
        shown = n * every
        product_id = catalog[n % len(catalog)][0]
        pin = {"id": new_id(), "episode_id": episode_id, "product_id": product_id, "shown_at": at(shown)}
        pins.append(pin | {"hidden_at": at(shown + every * 0.9), "deal_sold": 0})
        for viewer, watched in spans.items():
            if any(a <= shown + every and b >= shown for a, b in watched):
                views.append(
                    {"pin_id": pin["id"], "viewer_kind": "guest", "viewer_id": viewer, "episode_id": episode_id}
                    | {"viewed_at": at(shown)}
                )
    await bulk(database, Pin.__table__, pins)
    await bulk(database, CardView.__table__, views)
    replay_sessions, replay_views = replay(episode_id, audience[: viewers // 2], pins, rng)
    await bulk(database, WatchSession.__table__, replay_sessions)
    await bulk(database, CardView.__table__, replay_views)
    adds = []
    for _ in range(6000):
        product_id, variant_id, _ = rng.choice(catalog)
        adds.append(
            {"id": new_id(), "episode_id": episode_id, "product_id": product_id, "variant_id": variant_id}
            | {"shopper_kind": "guest", "shopper_id": rng.choice(audience), "quantity": 1}
            | {"added_at": at(rng.uniform(0, seconds * 1.2))}
        )
    await bulk(database, CartAddition.__table__, adds)
    orders, lines = [], []
    for n in range(2000):
        placed = at(rng.uniform(0, seconds) if n % 5 else seconds + rng.uniform(60, 86_400))
        order_id = new_id()
        chosen = rng.sample(catalog, 1 + (n % 3 == 0))
        total = sum(price for _, _, price in chosen)
        orders.append(
            {"id": order_id, "number": f"B-{n:08d}", "brand_id": brand_id, "buyer_kind": "guest"}
            | {"buyer_id": rng.choice(audience), "idempotency_key": f"k{n}", "request_hash": "bench"}
            | {"email": "b@bench.test", "name": "Buyer", "shipping_method": "pickup", "currency": "EUR"}
            | {"items_total": total, "shipping_total": 0, "tax_total": 0, "tax_included": True, "total": total}
            | {"status": "cancelled" if n % 50 == 0 else "paid", "language": "en", "payment_provider": "pay_later"}
            | {"created_at": placed}
        )
        for position, (product_id, variant_id, price) in enumerate(chosen):
            lines.append(
                {"id": new_id(), "order_id": order_id, "position": position, "product_id": product_id}
                | {"variant_id": variant_id, "episode_id": episode_id, "sku": "S", "title": "Product", "label": ""}
                | {"quantity": 1, "unit_price": price, "deal_quantity": 0, "line_total": price}
            )
    await bulk(database, Order.__table__, orders)
    await bulk(database, OrderLine.__table__, lines)
    counts = {
        "sessions": len(sessions),
        "messages": len(messages),
        "pins": len(pins),
        "card views": len(views),
        "replay sessions": len(replay_sessions),
        "replay card views": len(replay_views),
        "adds": len(adds),
        "orders": len(orders),
    }
    return episode_id, manager, counts


def replay(
    episode_id: uuid.UUID, viewers: list[uuid.UUID], pins: list[dict[str, Any]], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The replay's sessions (a stretch of the recording played, in the three days after the show) and
    its card views (the pins shown in what was played, once per viewer and pin)."""
    seconds = LIVE.total_seconds()
    sessions, seen = [], {}
    for viewer in viewers:
        for _ in range(rng.randint(1, 3)):
            played = rng.uniform(60, 1800)
            start = seconds + rng.uniform(600, 3 * 86_400)
            played_from = rng.uniform(0, seconds - played)  # the recording's second it started at
            sessions.append(
                {"id": new_id(), "episode_id": episode_id, "viewer_kind": "guest", "viewer_id": viewer}
                | {"replay": True, "joined_at": at(start), "left_at": at(start + played)}
            )
            for pin in pins:
                shown = (pin["shown_at"] - START).total_seconds()
                if played_from <= shown < played_from + played:
                    seen.setdefault((pin["id"], viewer), at(start + shown - played_from))
    views = [
        {"pin_id": pin_id, "viewer_kind": "guest", "viewer_id": viewer, "replay": True}
        | {"episode_id": episode_id, "viewed_at": viewed_at}
        for (pin_id, viewer), viewed_at in seen.items()
    ]
    return sessions, views


async def best_of(times: int, work: Callable[[], Awaitable[Any]]) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        await work()
        best = min(best, time.perf_counter() - started)
    return best


async def measure(url: str, viewers: int) -> tuple[dict[str, int], float, float, float]:
    """Rows written, seconds to write them, best seconds for the report and for its CSV files."""
    database = Database(create_engine(url))
    try:
        await migrate.upgrade(database.engine)
        started = time.perf_counter()
        episode_id, manager, counts = await generate(database, viewers, random.Random(18))
        written = time.perf_counter() - started
        now = START + LIVE + timedelta(days=3)
        wait_for_quiet(print, patience=60)  # the times below are of a quiet machine, if it gets quiet

        async def report() -> Any:
            async with database.transaction() as session:
                return await reports.episode_report(session, actor=manager, episode_id=episode_id, now=now)

        async def export() -> None:
            counted = await report()
            for table in TABLES:
                episode_table(counted, table)  # type: ignore[arg-type]

        return counts, written, await best_of(3, report), await best_of(3, export)
    finally:
        await database.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--viewers", type=int, default=5000)
    args = parser.parse_args()
    rows = []
    counts: dict[str, int] = {}
    for kind in args.databases.split(","):
        if kind == "postgresql":
            name = f"shopcast_bench_report_{os.getpid()}"
            admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
            try:
                counts, written, counted, exported = await measure(f"{base}/{name}", args.viewers)
            finally:
                admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
                try:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                finally:
                    await admin.close()
            label = "PostgreSQL"
        else:
            with tempfile.TemporaryDirectory(prefix="shopcast-bench-report-") as folder:
                counts, written, counted, exported = await measure(
                    f"sqlite+aiosqlite:///{folder}/bench.db", args.viewers
                )
            label = "SQLite"
        rows.append([label, f"{written:.1f}", f"{counted * 1000:,.0f}", f"{exported * 1000:,.0f}"])
    print(machine("sqlalchemy", "asyncpg", "aiosqlite"))
    print("load average at the end: " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    print("rows: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))
    header = ["database", "written in, s", "report, ms (best of 3)", "report + every CSV table, ms (best of 3)"]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    asyncio.run(main())
