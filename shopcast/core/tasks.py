"""Stopping a background task for sure, on Python 3.11 too.

One `cancel()` is not always enough there: `asyncio.wait_for`, which redis-py wraps around every
command it sends, swallows a cancellation that arrives just as the command completes (CPython
gh-86296, fixed by 3.12's rewrite of `wait_for`). A task looping over Redis commands then carries on,
and whoever awaits it after that one cancel waits for ever: a stop that never ends, so the facts
written last are lost when the process is killed. Measured here with redis-py 8.1 on 3.11.7, about
one such task in eight carried on after its cancel (tests/core/test_tasks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

CANCEL_AGAIN_SECONDS = 0.25
"""How long a cancelled task has to end before it is cancelled again (none of ours cleans up longer)."""


async def stop(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and return once it has ended; what it raised is dropped (it is being stopped).

    The caller's own cancellation goes through: only the task is waited for, not shielded from."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_AGAIN_SECONDS)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()  # retrieved, so asyncio does not log it as never retrieved
