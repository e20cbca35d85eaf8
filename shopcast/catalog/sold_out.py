"""What this process knows to be sold out: a tap on such a variant is refused before any other work.

When a host pins a product and a thousand viewers tap at once for fifty pieces, 950 taps are
refusals. Each would otherwise wait for its turn at the variant and open a transaction to read
what the first ones already found; here it is answered from memory, in the buyer's language.

A mark only ever refuses: a unit is sold by the conditional UPDATE of `stock.take` alone. It is set
from authoritative results only, never from a guess: this process's reading of the variant at
zero or a take that left none (`seen`), the stock read at zero after a commit (`StockNews`), or a
`stock:changed` at zero that any process published to a room this process follows (`heard`). It
goes as soon as this process puts units back, reads or hears the stock above zero, and in any case
`LIFETIME` after it was last confirmed: a restock no followed room was told of (a product on no live
pin or lineup) delays a sale by that much at most, then the next tap asks the database, which marks
the variant again if it is still at zero. Marks follow the app's clock: a clock set back forgets them.

The answer names the product and variant as the buyer reads them, and only to buyers of its brand:
both are noted whenever this process reads a variant for an add (`described`), so a mark heard from
another process answers on its own once this process has read the variant once.

One set of marks per app (per database engine, which the app factory makes once): in one process,
two apps (as in tests) each know only what they saw or heard, like two processes.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shopcast.core.db import after_commit
from shopcast.core.errors import Phrase

LIFETIME = timedelta(seconds=2)
DESCRIBED_AT_MOST = 4096  # variants whose names are kept (the oldest noted goes first)

BrandKey = uuid.UUID | str  # a brand by id or by slug, as the caller knows it


@dataclass
class _Description:
    what: Phrase  # the product and variant as a buyer reads them
    brands: set[BrandKey] = field(default_factory=set)  # the keys the variant was read under


class SoldOutMarks:
    """This app's sold-out marks and the names it needs to answer them."""

    def __init__(self) -> None:
        self._marked: dict[uuid.UUID, datetime] = {}  # variant -> when it was last confirmed at zero
        self._described: dict[uuid.UUID, _Description] = {}

    def refusal(self, variant_id: uuid.UUID, brand: BrandKey, now: datetime) -> Phrase | None:
        """The variant as the buyer reads it, if it is known to be sold out in this brand."""
        confirmed = self._marked.get(variant_id)
        if confirmed is None:
            return None
        if not confirmed <= now < confirmed + LIFETIME:
            del self._marked[variant_id]
            return None
        description = self._described.get(variant_id)
        return description.what if description is not None and brand in description.brands else None

    def described(self, variant_id: uuid.UUID, brands: tuple[BrandKey, ...], what: Phrase) -> None:
        """This process read the variant (for an add): its name, and the keys of the brand it is in."""
        description = self._described.get(variant_id)
        if description is None:
            if len(self._described) >= DESCRIBED_AT_MOST:
                del self._described[next(iter(self._described))]
            description = self._described[variant_id] = _Description(what)
        description.what = what
        description.brands.update(brands)

    def seen(self, variant_id: uuid.UUID, now: datetime) -> None:
        """The variant was found at zero: by this process's reading or take, or another's (`heard`)."""
        self._marked[variant_id] = now

    def cleared(self, variant_id: uuid.UUID) -> None:
        """Units of the variant are on sale again (put back, or read or heard above zero)."""
        self._marked.pop(variant_id, None)

    def heard(self, variant_id: uuid.UUID, stock: int, now: datetime) -> None:
        """A `stock:changed` of the variant, from whichever process read it after its commit."""
        if stock > 0:
            self.cleared(variant_id)
        else:
            self.seen(variant_id, now)


_apps: weakref.WeakKeyDictionary[AsyncEngine, SoldOutMarks] = weakref.WeakKeyDictionary()


def marks_of(engine: AsyncEngine) -> SoldOutMarks:
    """The marks of the app whose database engine this is."""
    marks = _apps.get(engine)
    if marks is None:
        marks = _apps[engine] = SoldOutMarks()
    return marks


def marks_in(session: AsyncSession) -> SoldOutMarks | None:
    """The marks of the app this session belongs to (None for a session on a bare connection)."""
    return marks_of(session.bind) if isinstance(session.bind, AsyncEngine) else None


def put_back(session: AsyncSession, variant_ids: list[uuid.UUID]) -> None:
    """Units of these variants go back on sale in this transaction: their marks go now, and again
    once it is committed (a sale that held the row meanwhile may have marked them)."""
    marks = marks_in(session)
    if marks is None or not variant_ids:
        return
    for variant_id in variant_ids:
        marks.cleared(variant_id)

    async def forget() -> None:
        for variant_id in variant_ids:
            marks.cleared(variant_id)

    after_commit(session, forget)
