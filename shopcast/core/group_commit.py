"""Group commit: many small writes that arrive together are written together, in one transaction.

A poll in a room of thousands gets hundreds of votes a second, each a few rows. Written one
transaction each, the statements and round trips (not the rows) cost the server a core; written as
one transaction per batch, the same votes cost a few statements per batch. There is no timer: the
first write of a quiet moment goes at once, and whatever arrives while a batch is being written
waits for the next one, so batches grow with the load and the wait stays about one write long.

Writes are batched per group (a poll, a giveaway): one writer task per group with work, none
otherwise. Within a batch a key (a viewer) appears once: a second write with the same key waits for
the next batch, so the write function sees each key's writes one at a time, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Group = TypeVar("Group", bound=Hashable)
Item = TypeVar("Item")
Result = TypeVar("Result")

MOST_PER_BATCH = 500
"""The most writes in one batch: bounds a transaction's statements and a batch's wait."""


@dataclass
class _Pending(Generic[Item, Result]):
    key: Hashable
    item: Item
    done: asyncio.Future[Result] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


Write = Callable[[Group, Sequence[Item]], Awaitable[Sequence[Result | Exception]]]
"""Write a batch of one group; for each item in order, its result or the error refusing it alone.
An error raised refuses the whole batch (nothing of it may be written)."""


class GroupCommit(Generic[Group, Item, Result]):
    def __init__(self, name: str, write: Write[Group, Item, Result], *, most: int = MOST_PER_BATCH) -> None:
        self._name = name
        self._write = write
        self._most = most
        self._queues: dict[Group, list[_Pending[Item, Result]]] = {}
        self._writers: dict[Group, asyncio.Task[None]] = {}

    async def submit(self, group: Group, key: Hashable, item: Item) -> Result:
        """Write `item` with the others of its group arriving now; its result, or its error raised."""
        pending: _Pending[Item, Result] = _Pending(key, item)
        self._queues.setdefault(group, []).append(pending)
        if group not in self._writers:
            self._writers[group] = asyncio.create_task(self._drain(group), name=f"{self._name} {group}")
        # Shielded: a caller that goes away (a viewer disconnecting) does not cancel a batch's write.
        return await asyncio.shield(pending.done)

    async def _drain(self, group: Group) -> None:
        try:
            await asyncio.sleep(0)  # writes sent in the same turn of the loop join the first batch
            while batch := self._next_batch(group):
                await self._write_batch(group, batch)
        finally:
            del self._writers[group]
            if not self._queues.get(group):
                self._queues.pop(group, None)
            else:  # cancelled with writes waiting (the app stopping): they are refused, not left hanging
                for pending in self._queues.pop(group):
                    pending.done.cancel()

    def _next_batch(self, group: Group) -> list[_Pending[Item, Result]]:
        waiting = self._queues.get(group, [])
        batch: list[_Pending[Item, Result]] = []
        later: list[_Pending[Item, Result]] = []
        keys: set[Hashable] = set()
        for pending in waiting:
            if len(batch) < self._most and pending.key not in keys:
                keys.add(pending.key)
                batch.append(pending)
            else:
                later.append(pending)
        self._queues[group] = later
        return batch

    async def _write_batch(self, group: Group, batch: list[_Pending[Item, Result]]) -> None:
        try:
            results = await self._write(group, [p.item for p in batch])
        except Exception as error:  # the batch is refused as a whole; each caller hears why
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(error)
            return
        except BaseException:
            for pending in batch:
                pending.done.cancel()
            raise
        for pending, result in zip(batch, results, strict=True):
            if pending.done.done():
                continue
            if isinstance(result, Exception):
                pending.done.set_exception(result)
            else:
                pending.done.set_result(result)

    async def close(self) -> None:
        """Finish the batches under way and those waiting (the app stopping)."""
        while self._writers:
            await asyncio.gather(*self._writers.values(), return_exceptions=True)
