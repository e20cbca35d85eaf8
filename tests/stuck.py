"""What a stuck test was waiting for, printed while it is still stuck.

A thread dump (faulthandler's) of a test stuck in the event loop shows only the loop's own frame of
the moment; what matters is each asyncio task's chain of awaits. Before pytest-timeout ends the
stuck test's process, this prints both to the console (file descriptor 2, which pytest-xdist's
workers share with the run), so a hang in CI names its test and what it was awaiting.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import os
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any


def _frame_of(awaitable: Any) -> FrameType | None:
    for name in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(awaitable, name, None)
        if frame is not None:
            return frame
    return None


def _awaited_by(awaitable: Any) -> Any:
    for name in ("cr_await", "gi_yieldfrom", "ag_await"):
        inner = getattr(awaitable, name, None)
        if inner is not None:
            return inner
    return None


def awaits(task: asyncio.Task[Any]) -> Iterator[str]:
    """The task's chain of awaits, outermost first (a suspended coroutine's frame knows only itself)."""
    awaitable: Any = task.get_coro()
    while awaitable is not None:
        frame = _frame_of(awaitable)
        if frame is not None:
            yield f'  File "{frame.f_code.co_filename}", line {frame.f_lineno}, in {frame.f_code.co_name}'
        else:
            yield f"  {awaitable!r}"
        awaitable = _awaited_by(awaitable)


def running_loops() -> list[asyncio.AbstractEventLoop]:
    return [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]


def report(nodeid: str, seconds: float) -> str:
    lines = [f"\n+++ {nodeid} has run for {seconds:.0f} s: its asyncio tasks +++"]
    for loop in running_loops():
        # Read from this thread while the loop may run: good enough for a report, and the only way
        # when the loop itself is what is stuck.
        for task in list(asyncio.all_tasks(loop)):
            lines.append(f"{task.get_name()} ({'cancelling' if task.cancelling() else 'pending'}):")
            lines.extend(awaits(task))
    lines.append("+++ and its threads +++\n")
    return "\n".join(lines)


class Watch:
    """A timer per test: after `seconds`, the report goes to `console`; the test itself goes on.

    `console` is a copy of file descriptor 2 taken before pytest captures it (pytest_configure):
    during a test, 2 is pytest's capture file, shown only once the test ends."""

    def __init__(self, nodeid: str, seconds: float, console: int) -> None:
        self._console = console
        self._timer = threading.Timer(seconds, self._fire, (nodeid, seconds))
        self._timer.daemon = True

    def _fire(self, nodeid: str, seconds: float) -> None:
        try:
            os.write(self._console, report(nodeid, seconds).encode(errors="replace"))
        except Exception as exc:  # a report that fails must not end the run
            os.write(self._console, f"\n+++ {nodeid} is stuck; its tasks could not be listed: {exc!r} +++\n".encode())
        faulthandler.dump_traceback(self._console, all_threads=True)

    def __enter__(self) -> Watch:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
