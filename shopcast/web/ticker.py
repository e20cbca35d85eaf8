"""A task that does one step every few seconds for the app's lifetime, logging a failed step and
going on: the shop's clock, the polls' clock, the giveaways' entry counts, and the rooms' viewer
counts and reactions each run on one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from shopcast.core import tasks

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, name: str, seconds: float, step: Callable[[], Awaitable[None]]) -> None:
        self._name = name
        self._seconds = seconds
        self._step = step
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._seconds)
            try:
                await self._step()
            except Exception:
                # One failed step (the database restarting, say) must not stop the next ones.
                log.exception("%s failed; trying again in %s s", self._name, self._seconds)

    async def close(self) -> None:
        await tasks.stop(self._task)
