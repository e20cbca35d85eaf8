"""Last week's episode of the demo show, aired and sold, so its report has something to show: viewers
coming and going, a chat, three products pinned in turn, cards seen, carts filled, orders during the
live; and in the days after, viewers playing the replay, its cards seen and a few orders from it.
Written as the facts a real show leaves (the same tables), from a fixed seed: the same figures every
time."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.catalog.models import CardView, CartAddition, Order, OrderLine, Pin, Product, Variant
from shopcast.catalog.orders import new_number
from shopcast.chat.identity import viewer_ref
from shopcast.chat.models import ChatMessage, ReactionTotal, WatchSession
from shopcast.core.ids import new_id
from shopcast.demo import BRAND_SLUG, SHOW_TITLE
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.models import Episode, Show

VIEWERS = 120
LIVE_MINUTES = 45
PINS = ((4, 12), (17, 11), (31, 12))  # (minute shown, minutes on screen) of each product in turn
WORDS = ("Love it", "Which size for 1m70?", "Gorgeous colour", "Is it lined?", "Hello from Lyon!", "Ordered!")


async def seed_last_week(session: AsyncSession, *, now: datetime) -> uuid.UUID:
    """Last week's aired episode of the demo show (made once; its id)."""
    brand = await accounts.get_brand(session, slug=BRAND_SLUG)
    show = await session.scalar(select(Show).where(Show.brand_id == brand.id, Show.title == SHOW_TITLE))
    assert show is not None, "seed the demo brand first"
    aired = await session.scalar(select(Episode.id).where(Episode.show_id == show.id, Episode.ended_at.is_not(None)))
    if aired is not None:
        return aired
    start = (now - timedelta(days=7)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=LIVE_MINUTES)
    episode = Episode(
        id=new_id(),
        show_id=show.id,
        brand_id=brand.id,
        occurrence_at=None,
        starts_at=start,
        duration_minutes=LIVE_MINUTES,
        title=None,
        host_id=show.default_host_id,
        status=EpisodeStatus.ENDED,
        went_live_at=start,
        ended_at=end,
        created_at=start - timedelta(days=7),
    )
    session.add(episode)
    await session.flush()
    rng = random.Random(18)
    at = lambda minutes: start + timedelta(seconds=round(minutes * 60))  # noqa: E731
    viewers = [new_id() for _ in range(VIEWERS)]
    watching: dict[uuid.UUID, tuple[float, float]] = {}
    sessions = []
    for viewer in viewers:
        joined = min(LIVE_MINUTES - 1, rng.expovariate(1 / 6))
        left = min(LIVE_MINUTES + 5.0, joined + rng.uniform(3, 40))
        watching[viewer] = (joined, left)
        sessions.append(
            {"id": new_id(), "episode_id": episode.id, "viewer_kind": "guest", "viewer_id": viewer}
            | {"joined_at": at(joined), "left_at": at(left)}
        )
    await session.execute(insert(WatchSession), sessions)

    secret = b"demo"
    messages = []
    for _ in range(150):
        viewer = rng.choice(viewers)
        joined, left = watching[viewer]
        text = rng.choice(WORDS)
        messages.append(
            {
                "id": new_id(),
                "episode_id": episode.id,
                "brand_id": brand.id,
                "author_kind": "guest",
                "author_id": viewer,
                "author_ref": viewer_ref(secret, brand.id, "guest", viewer),
                "author_name": f"Viewer {viewers.index(viewer) + 1}",
                "author_role": "viewer",
                "text": text,
                "question": text.endswith("?"),
                "answered_at": at(min(left, LIVE_MINUTES)) if text.endswith("?") and rng.random() < 0.7 else None,
                "created_at": at(rng.uniform(joined, min(left, LIVE_MINUTES))),
            }
        )
    await session.execute(insert(ChatMessage), sorted(messages, key=lambda m: m["created_at"]))
    session.add_all([ReactionTotal(episode_id=episode.id, emoji=e, count=n) for e, n in (("❤️", 412), ("🔥", 168))])

    products = list(await session.scalars(select(Product).where(Product.brand_id == brand.id).order_by(Product.price)))
    variants = {p.id: list(await session.scalars(select(Variant).where(Variant.product_id == p.id))) for p in products}
    buyers = rng.sample(viewers, 24)
    replay_buyers: dict[uuid.UUID, datetime] = {}
    pins: list[tuple[uuid.UUID, float, float]] = []  # (pin, minute shown, minute hidden)
    for (shown, minutes), product in zip(PINS, products, strict=False):
        pin = Pin(id=new_id(), episode_id=episode.id, product_id=product.id, shown_at=at(shown))
        pin.hidden_at = at(shown + minutes)
        session.add(pin)
        await session.flush()
        pins.append((pin.id, shown, shown + minutes))
        present = [v for v in viewers if watching[v][0] <= shown + minutes and watching[v][1] >= shown]
        await session.execute(
            insert(CardView),
            [
                {"pin_id": pin.id, "viewer_kind": "guest", "viewer_id": v, "episode_id": episode.id}
                | {"viewed_at": at(max(shown, watching[v][0]))}
                for v in present
            ],
        )
        shoppers = [v for v in buyers if v in present][:8]
        for number, viewer in enumerate(shoppers):
            added = shown + rng.uniform(0.5, minutes)
            variant = rng.choice(variants[product.id])
            session.add(
                CartAddition(
                    episode_id=episode.id,
                    product_id=product.id,
                    variant_id=variant.id,
                    shopper_kind="guest",
                    shopper_id=viewer,
                    quantity=1,
                    added_at=at(added),
                )
            )
            if number % 3 == 2:
                continue  # a cart left as it was
            # Most buy at once; one in four after the show, from the replay.
            placed = at(added + 2) if number % 4 else end + timedelta(hours=rng.uniform(2, 60))
            if placed > end:
                replay_buyers[viewer] = placed
            await _order(session, brand.id, episode.id, viewer, product, variant, placed)
    await _replay(session, episode.id, end, rng, pins, rng.sample(viewers, VIEWERS // 4), replay_buyers)
    return episode.id


async def _replay(
    session: AsyncSession,
    episode_id: uuid.UUID,
    end: datetime,
    rng: random.Random,
    pins: list[tuple[uuid.UUID, float, float]],
    comers: list[uuid.UUID],
    buyers: dict[uuid.UUID, datetime],
) -> None:
    """The replay in the days after: a stretch of it played by some viewers (those who bought from it
    watched just before), each card over the part they played seen again, as the replay's."""
    sessions, views = [], []
    for viewer in dict.fromkeys([*comers, *buyers]):
        minutes = rng.uniform(2, 20)
        start = buyers.get(viewer, end + timedelta(hours=rng.uniform(1, 72))) - timedelta(minutes=minutes)
        played_from = rng.uniform(0, LIVE_MINUTES - minutes)  # the recording's minute they started at
        sessions.append(
            {"id": new_id(), "episode_id": episode_id, "viewer_kind": "guest", "viewer_id": viewer, "replay": True}
            | {"joined_at": start, "left_at": start + timedelta(minutes=minutes)}
        )
        for pin_id, shown, hidden in pins:
            if shown < played_from + minutes and hidden > played_from:
                seen = start + timedelta(minutes=max(0.0, shown - played_from))
                views.append(
                    {"pin_id": pin_id, "viewer_kind": "guest", "viewer_id": viewer, "replay": True}
                    | {"episode_id": episode_id, "viewed_at": seen}
                )
    await session.execute(insert(WatchSession), sessions)
    if views:
        await session.execute(insert(CardView), views)


async def _order(
    session: AsyncSession,
    brand_id: uuid.UUID,
    episode_id: uuid.UUID,
    buyer: uuid.UUID,
    product: Product,
    variant: Variant,
    placed: datetime,
) -> None:
    price = variant.price or product.price
    order = Order(
        id=new_id(),
        number=new_number(),
        brand_id=brand_id,
        buyer_kind="guest",
        buyer_id=buyer,
        idempotency_key=f"demo-{new_id()}",
        request_hash="demo",
        email="buyer@demo.shopcast.test",
        name="Demo buyer",
        shipping_method="pickup",
        shipping_address=None,
        pickup_store={"id": "marais", "name": "Maison Lumière Marais", "address": "12 rue des Archives, Paris"},
        currency=product.currency,
        items_total=price,
        shipping_total=0,
        tax_total=round(price / 6),
        tax_included=True,
        total=price,
        status="paid",
        language="fr",
        payment_provider="pay_later",
        payment_reference=None,
        created_at=placed,
        paid_at=placed,
    )
    session.add(order)
    await session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            product_id=product.id,
            variant_id=variant.id,
            episode_id=episode_id,
            sku=variant.sku,
            title=product.title,
            label="",
            quantity=1,
            unit_price=price,
            line_total=price,
        )
    )
