"""Stopping a process step by step, naming the steps that were slow: a stop that hangs says where."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

log = logging.getLogger("shopcast.stopping")
SLOW_SECONDS = 2.0  # every step is normally a few milliseconds; a container is given 10 s or so


async def step(name: str, stopping: Awaitable[object]) -> None:
    """Await `stopping`, logging a warning with `name` if it took long."""
    started = time.monotonic()
    try:
        await stopping
    finally:
        if (took := time.monotonic() - started) >= SLOW_SECONDS:
            log.warning("stopping: %s took %.1f s", name, took)
