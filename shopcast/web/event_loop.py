"""The event loop a Shopcast process serves on (SHOPCAST_EVENT_LOOP).

asyncio's own loop writes to a socket in Python; uvloop's does it in C. With thousands of viewers in
a room every flush is one write per viewer, so uvloop takes a good part of the fan-out's cost off
the loop (docs/benchmarks.md, "Room fan-out"). It is optional: a package with compiled code, for
Linux and macOS.
"""

from __future__ import annotations

import asyncio

from shopcast.core.errors import ShopcastError


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """A new event loop of this kind ("asyncio" or "uvloop")."""
    if kind == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise ShopcastError("errors.settings.no_uvloop") from None
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
