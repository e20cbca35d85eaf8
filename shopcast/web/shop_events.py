"""The shop in the live room: `cart:add` from the pin (the same service as the HTTP route),
`card:viewed` (a viewer's page showed the pinned product's card, for the report), the room's
`stock:changed` passed on to this process's sold-out marks, and the shop's clock: holds released,
deals ended at zero, "N bought" told at most once a second."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import Field, ValidationError
from sqlalchemy.exc import DBAPIError

from shopcast.catalog import cart, deals, figures, lineup, pin_taps
from shopcast.catalog.events import SALES_BOUGHT, STOCK_CHANGED
from shopcast.catalog.schemas import MAX_LINE_QUANTITY, CartAdd, CartOut, StockChanged
from shopcast.catalog.sold_out import marks_of
from shopcast.core.bus import Envelope
from shopcast.core.db import Database
from shopcast.core.errors import Unauthorized
from shopcast.core.group_commit import GroupCommit
from shopcast.live.events import room_episode
from shopcast.web.context import Resources
from shopcast.web.rooms import LiveRooms
from shopcast.web.sockets import RoomCall, RoomRequest, room_event
from shopcast.web.ticker import Ticker

log = logging.getLogger(__name__)
SHOP_TICK_SECONDS = 1.0


class CartAddRequest(RoomRequest):
    variant_id: uuid.UUID
    quantity: int = Field(1, ge=1, le=MAX_LINE_QUANTITY)


@room_event("cart:add", CartAddRequest)
async def add_to_cart(call: RoomCall, request: CartAddRequest) -> dict[str, Any]:
    if call.actor is None:
        raise Unauthorized("errors.cart.sign_in")
    brand_id = call.membership.brand_id
    # The storm's many late taps: answered before anything else is done for them.
    marks = marks_of(call.resources.database.engine)
    cart.refuse_if_known_sold_out(marks, brand=brand_id, variant_id=request.variant_id, now=call.now())
    group = (brand_id, request.episode_id, request.variant_id)
    tap = pin_taps.Tap(call.actor, request.quantity)
    shown = await call.app[PIN_TAPS].taps.submit(group, (call.actor.kind, call.actor.id), tap)
    return {"cart": shown.model_dump(mode="json")}


TapGroup = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # brand, episode, variant
TAPS_PER_BATCH = 100
"""The most taps sold in one transaction (each a cart and a line in its statements)."""


class PinTaps:
    """The room's taps on a variant, sold in batches (catalog/pin_taps.py): one writer per variant
    of a live with taps waiting; the taps arriving while it writes are sold together next."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self.taps: GroupCommit[TapGroup, pin_taps.Tap, CartOut] = GroupCommit(
            "taps on the pin", self._sell, most=TAPS_PER_BATCH
        )

    async def _sell(self, group: TapGroup, taps: Sequence[pin_taps.Tap]) -> list[CartOut | Exception]:
        brand_id, episode_id, variant_id = group
        res = self._resources
        now = res.clock.now()
        # Taps that waited while the variant sold out: refused without a transaction.
        known = marks_of(res.database.engine).refusal(variant_id, brand_id, now)
        if known is not None:
            return [cart.refusal(known, variant_id, 0)] * len(taps)
        try:
            async with res.database.transaction() as session:
                try:
                    sold = await pin_taps.add_together(
                        session,
                        brand_id=brand_id,
                        episode_id=episode_id,
                        variant_id=variant_id,
                        taps=taps,
                        now=now,
                        bus=res.bus,
                        facts=res.facts,
                        hold_minutes=res.settings.cart_hold_minutes,
                    )
                except DBAPIError as error:
                    # A dropped connection or a deadlock is not every tap's failure: the batch rolls
                    # back and each tap gets its own try. (Not at the commit: a commit whose answer
                    # was lost may have sold them, and trying again would sell them twice.)
                    log.warning("taps sold together failed at the database (%s): selling them one by one", error)
                    raise pin_taps.SellAlone() from error
            return list(sold)
        except pin_taps.SellAlone:
            return list(await asyncio.gather(*(self._alone(group, tap) for tap in taps)))

    async def _alone(self, group: TapGroup, tap: pin_taps.Tap) -> CartOut | Exception:
        """One tap as if it had come alone: its own transaction, its own answer."""
        brand_id, episode_id, variant_id = group
        res = self._resources
        data = CartAdd(variant_id=variant_id, quantity=tap.quantity, episode_id=episode_id)
        try:
            async with res.database.transaction() as session:
                return await cart.add(
                    session,
                    actor=tap.actor,
                    brand=brand_id,
                    data=data,
                    now=res.clock.now(),
                    bus=res.bus,
                    facts=res.facts,
                    hold_minutes=res.settings.cart_hold_minutes,
                )
        except Exception as error:  # that buyer's answer (the ack logs what is not ours)
            return error

    async def close(self) -> None:
        await self.taps.close()


PIN_TAPS = web.AppKey("pin_taps", PinTaps)


def heard_in_room(resources: Resources, event: Envelope) -> None:
    """A room's `stock:changed`, read by whichever process made the change: this process's sold-out
    mark of the variant follows it (set at zero, gone above)."""
    if event.event != STOCK_CHANGED:
        return
    try:
        changed = StockChanged.model_validate(event.payload)
    except ValidationError:
        return  # not ours to judge: the room's clients got it as it was
    marks_of(resources.database.engine).heard(changed.variant_id, changed.stock, resources.clock.now())


class CardViewRequest(RoomRequest):
    pin_id: uuid.UUID


@room_event("card:viewed", CardViewRequest)
async def card_viewed(call: RoomCall, request: CardViewRequest) -> None:
    who = call.membership.chatter
    if not who.is_staff:  # the host's and the moderators' screens are not the audience
        figures.record_card_view(
            call.resources.facts,
            episode_id=request.episode_id,
            pin_id=request.pin_id,
            viewer_kind=who.kind,
            viewer_id=who.id,
            replay=False,
            now=call.now(),
        )


class ShopClock:
    """Once a second, on every process (each step is safe to run on several at once): release
    expired holds, end deals whose countdown is over, and tell this process's viewers of each
    room how much was bought during the live when it changed."""

    def __init__(self, resources: Resources, rooms: LiveRooms) -> None:
        self._resources = resources
        self._rooms = rooms
        self._told: dict[str, dict[str, int]] = {}
        self._ticker = Ticker("the shop's clock", SHOP_TICK_SECONDS, self.tick)

    def start(self) -> None:
        self._ticker.start()

    async def tick(self) -> None:
        res = self._resources
        database: Database = res.database
        async with database.transaction() as session:
            await cart.release_expired(session, now=res.clock.now(), bus=res.bus)
        async with database.transaction() as session:
            await deals.end_due(session, now=res.clock.now(), bus=res.bus)
        await self._tell_sales()

    async def _tell_sales(self) -> None:
        rooms = [r for r in self._rooms.rooms() if self._rooms.members(r)]
        for room in set(self._told) - set(rooms):
            del self._told[room]
        if not rooms:
            return
        async with self._resources.database.transaction() as session:
            counts = {room: await lineup.bought(session, room_episode(room)) for room in rooms}
        # Told once the connection is back in the pool, not while holding it.
        for room, sold in counts.items():
            products = {str(k): v for k, v in sold.items()}
            if self._told.get(room, {}) != products:
                self._told[room] = products
                await self._rooms.emit_state(
                    room, SALES_BOUGHT, {"bought": sum(products.values()), "products": products}
                )

    async def close(self) -> None:
        await self._ticker.close()
