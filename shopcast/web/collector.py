"""Keeping CPython's full garbage collections short while thousands of viewers are connected.

Each connection keeps a few hundred objects the cyclic collector tracks (aiohttp's, engineio's and
python-socketio's), so at 5,000 viewers a full (generation 2) collection goes through about a
million objects and stops the event loop for most of a second: every vote, message and pin waiting
meanwhile is late by that much. Those objects live as long as their connection, so they are moved
out of the collector's reach (`gc.freeze()`) once they have settled, whenever enough viewers have
arrived; a full collection then only goes through what is new since, in milliseconds.

What is frozen is never collected as a cycle: the cyclic garbage a connection leaves when it closes
stays until the objects are thawed. So when half of the connections frozen are gone (the show
over, or its audience turned over), everything is thawed, collected once (the one long pause,
every few minutes at most instead of every 30 s) and frozen again; the memory held meanwhile is at
most about what the departed connections used. The app thaws all it froze when it stops."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Collection

from shopcast.web.ticker import Ticker

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.25
NEW_CONNECTIONS_TO_FREEZE = 50
"""Connections opened since the last freeze that make the next one worth it."""
FEWEST_TO_THAW = 2 * NEW_CONNECTIONS_TO_FREEZE
"""Below this many connections gone since they were frozen, what they left is not worth a collection."""


class CollectorPolicy:
    def __init__(self, connections: Callable[[], Collection[str]]) -> None:
        self._connections = connections
        self._frozen: set[str] = set()  # the connections whose objects are frozen (some may be gone)
        self._froze = False
        self._ticker = Ticker("the garbage collector's policy", CHECK_SECONDS, self.tick)

    def start(self) -> None:
        self._ticker.start()

    async def tick(self) -> None:
        self.step(set(self._connections()))

    def step(self, connected: set[str]) -> str | None:
        """Freeze, thaw or leave alone, with these connections open now; what was done."""
        gone = len(self._frozen - connected)
        if gone >= FEWEST_TO_THAW and gone >= len(self._frozen) // 2:
            # Half of the audience frozen has left (the show over, or turned over since): collect
            # what they left, in one pause, and freeze who is here now.
            started = time.monotonic()
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            log.info(
                "%d of %d connections gone: their garbage collected in %.0f ms",
                gone,
                len(self._frozen),
                1000 * (time.monotonic() - started),
            )
            self._frozen, self._froze = connected, True
            return "thawed"
        if len(connected - self._frozen) >= NEW_CONNECTIONS_TO_FREEZE:
            # The young generations first: what died young (requests, finished tasks) is not frozen.
            gc.collect(1)
            gc.freeze()
            self._frozen |= connected
            self._froze = True
            return "froze"
        return None

    async def close(self) -> None:
        await self._ticker.close()
        if self._froze:
            gc.unfreeze()  # the app stopping: whatever it leaves is collected as usual
            self._frozen, self._froze = set(), False
