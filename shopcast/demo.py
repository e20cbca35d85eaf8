"""The demo brand: a weekly show with staff accounts, a small catalog in the first episode's lineup
and a pickup store, so a newcomer has something to click and to buy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog import commerce, lineup, products
from shopcast.catalog.schemas import CommerceIn, PickupStore, ProductIn, VariantIn
from shopcast.core.security import Role
from shopcast.live import service as live
from shopcast.live.schedule import to_local
from shopcast.live.schemas import ShowCreate

BRAND_SLUG = "maison-lumiere"
BRAND_NAME = "Maison Lumière"
PASSWORD = "shopcast-demo"
ACCOUNTS = (
    ("manager@demo.shopcast.test", Role.MANAGER, "Camille"),
    ("host@demo.shopcast.test", Role.HOST, "Inès"),
    ("moderator@demo.shopcast.test", Role.MODERATOR, "Hugo"),
)
SHOW_TITLE = "Tuesday Night Live"
SIZES = ("XS", "S", "M", "L")
CATALOG = (
    ProductIn(
        handle="linen-wrap-dress",
        title="Linen wrap dress",
        summary="Washed linen, midi length, three colours",
        description="A wrap dress in washed French linen that softens with every wash. True to size.",
        price=8900,
        compare_at_price=11900,
        variants=[
            VariantIn(sku=f"LWD-{colour[:3].upper()}-{size}", options={"colour": colour, "size": size}, stock=6)
            for colour in ("Sand", "Sage")
            for size in SIZES
        ],
    ),
    ProductIn(
        handle="cashmere-crew",
        title="Cashmere crew-neck",
        summary="Grade-A cashmere, relaxed fit",
        price=12900,
        variants=[VariantIn(sku=f"CCN-{size}", options={"size": size}, stock=4) for size in SIZES],
    ),
    ProductIn(
        handle="leather-tote",
        title="Leather tote",
        summary="Vegetable-tanned leather, fits a laptop",
        price=15900,
        variants=[VariantIn(sku="TOTE-1", stock=10)],
    ),
)
SELLING = CommerceIn(
    currency="EUR",
    flat_rate=490,
    free_above=10000,
    pickup_stores=[PickupStore(id="marais", name="Maison Lumière Marais", address="12 rue des Archives, Paris")],
)
TIME_ZONE = "Europe/Paris"


@dataclass
class Demo:
    brand_slug: str
    show_id: str
    logins: list[tuple[str, str, str]]


async def seed(session: AsyncSession, *, now: datetime, weeks: int) -> Demo:
    """Create the demo brand, its staff and its weekly show; running it again changes nothing."""
    brand = await accounts.create_brand(session, slug=BRAND_SLUG, name=BRAND_NAME, now=now)
    brand.default_language = "fr"  # a French brand: French pages for browsers asking for neither language
    users = {}
    for email, role, name in ACCOUNTS:
        users[role] = await accounts.add_user(
            session, email=email, password=PASSWORD, role=role, brand=brand, now=now, display_name=name
        )
    manager = await accounts.load_principal(session, user_id=users[Role.MANAGER].id)
    shows = await live.list_shows(session, actor=manager, brand_slug=BRAND_SLUG)
    show = next((s for s in shows if s.title == SHOW_TITLE), None)
    if show is None:
        # Every Tuesday at 19:00 Paris time, starting with the next Tuesday.
        local_today = to_local(now, TIME_ZONE).date()
        next_tuesday = local_today + timedelta(days=(1 - local_today.weekday()) % 7 or 7)
        show = await live.create_show(
            session,
            actor=manager,
            brand_slug=BRAND_SLUG,
            data=ShowCreate(
                title=SHOW_TITLE,
                description="Our stylists try on the new collection live. Ask anything in the chat!",
                time_zone=TIME_ZONE,
                first_episode_at=datetime.combine(next_tuesday, datetime.min.time()).replace(hour=19),
                rrule="FREQ=WEEKLY;BYDAY=TU",
                duration_minutes=45,
                default_host_id=users[Role.HOST].id,
            ),
            now=now,
            weeks=weeks,
        )
    if not await products.brand_currencies(session, brand.id):
        await commerce.set_commerce(session, actor=manager, brand_slug=BRAND_SLUG, data=SELLING, now=now)
        saved = [(await products.save_product(session, brand=brand, data=p, now=now))[0] for p in CATALOG]
        coming = await live.list_show_episodes(
            session, actor=manager, show_id=show.id, now=now, weeks=weeks, include_past=False
        )
        first = coming[0]
        await lineup.set_lineup(session, actor=manager, episode_id=first.id, product_ids=[p.id for p in saved])
    return Demo(
        brand_slug=BRAND_SLUG,
        show_id=str(show.id),
        logins=[(email, PASSWORD, role.value) for email, role, _ in ACCOUNTS],
    )
