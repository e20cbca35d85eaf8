"""This process among several: what it tells the others and watches for, once per tick.

Each tick it renews the leases of the shows it is the origin of (handing over those the host took to
another process), reports how many WHEP viewers it has per show (the studio's figure is the sum over
every process), and ends each show whose origin has been gone for the grace period, if it is the
process chosen to (live/origins.py). With the in-process bus there is one process and no tick.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shopcast.core import tasks
from shopcast.core.presence import Presence
from shopcast.live.broadcasts import Broadcasts

log = logging.getLogger(__name__)


def whep_room(episode_id: uuid.UUID) -> str:
    """The presence key of a show's WHEP viewers (beside its room's, which counts the chat's)."""
    return f"whep:{episode_id}"


@dataclass(frozen=True)
class OnAir:
    """A show's video as the studio sees it, whichever process carries it."""

    on_air: bool
    publisher_connected: bool
    viewers: int


class Replicas:
    def __init__(
        self,
        broadcasts: Broadcasts,
        *,
        audience: Presence,
        interval: float,
        grace_seconds: float,
        end_abandoned: Callable[[uuid.UUID], Awaitable[None]],
    ) -> None:
        self._broadcasts = broadcasts
        self._audience = audience
        self._interval = interval
        self._grace = grace_seconds
        self._end_abandoned = end_abandoned
        self._reported: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="replica-duties")

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("this process's duties towards the others failed this time (Redis?)")
            await asyncio.sleep(self._interval)

    async def tick(self) -> None:
        await self._broadcasts.renew_origins()
        counts = {whep_room(e): n for e, n in self._broadcasts.viewer_counts().items()}
        await self._audience.report(counts)
        self._reported = counts
        for episode_id in await self._broadcasts.origins.abandoned(self._grace):
            log.info("episode %s lost its origin and no host came back: ending the show", episode_id)
            try:
                await self._end_abandoned(episode_id)
            except Exception:  # another process takes it on once the lock lapses
                log.exception("could not end episode %s", episode_id)

    async def on_air(self, episode_id: uuid.UUID) -> OnAir:
        """Whether a process has the host's stream, whether the host is connected, and the WHEP viewers of all."""
        stats = self._broadcasts.stats(episode_id)
        if stats is not None and stats.on_air and stats.pulling_from is None:
            on_air, connected = True, stats.publisher_connected
        else:
            origin = await self._broadcasts.origins.find(episode_id)
            on_air, connected = origin is not None, origin is not None and origin.publisher_connected
        room = whep_room(episode_id)
        here = stats.viewers if stats is not None else 0
        # The others' counts as they last reported them, this process's as it is now.
        everywhere = (await self._audience.totals([room]))[room] - self._reported.get(room, 0) + here
        return OnAir(on_air=on_air, publisher_connected=connected, viewers=max(here, everywhere))

    async def close(self) -> None:
        await tasks.stop(self._task)
        await self._audience.close()
