"""The demo brand: a weekly show with staff accounts, so a newcomer has something to click."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
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
TIME_ZONE = "Europe/Paris"


@dataclass
class Demo:
    brand_slug: str
    show_id: str
    logins: list[tuple[str, str, str]]


async def seed(session: AsyncSession, *, now: datetime, weeks: int) -> Demo:
    """Create the demo brand, its staff and its weekly show; running it again changes nothing."""
    brand = await accounts.create_brand(session, slug=BRAND_SLUG, name=BRAND_NAME, now=now)
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
    return Demo(
        brand_slug=BRAND_SLUG,
        show_id=str(show.id),
        logins=[(email, PASSWORD, role.value) for email, role, _ in ACCOUNTS],
    )
