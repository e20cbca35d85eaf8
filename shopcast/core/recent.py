"""Recently made values, kept a few seconds and made once however many ask at the same time.

At 19:00 a weekly show's whole audience opens the same watch page within a minute: its link preview
is looked up once per episode and second or so, not once per viewer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Values by key, each kept `seconds` after it was made. Callers asking for a key being made
    wait for that one making; a failure is not kept (each waiter gets it, the next call tries again)."""

    def __init__(self, seconds: float, size: int = 1024) -> None:
        self.seconds = seconds
        self.size = size
        self._kept: dict[K, tuple[float, V]] = {}
        self._making: dict[K, asyncio.Task[V]] = {}

    async def get(self, key: K, make: Callable[[], Awaitable[V]]) -> V:
        kept = self._kept.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        task = self._making.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._making[key] = task
            task.add_done_callback(lambda done: self._made(key, done))
        # A caller that goes away (its client hung up) must not cancel the others' making.
        return await asyncio.shield(task)

    def _made(self, key: K, task: asyncio.Task[V]) -> None:
        self._making.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        self._kept.pop(key, None)
        self._kept[key] = (time.monotonic() + self.seconds, task.result())
        while len(self._kept) > self.size:  # the oldest made goes first
            del self._kept[next(iter(self._kept))]

    def forget(self, key: K) -> None:
        self._kept.pop(key, None)
