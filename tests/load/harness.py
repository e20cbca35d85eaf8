"""What the benchmark scripts in tests/load share: child processes driven over a pipe, CPU time from /proc,
waiting for a quiet machine, and the printed Markdown table.

A benchmark's parent process starts its children with `Child` (multiprocessing, "spawn"); each child calls
`child_process` first (Ctrl+C is the parent's, it dies with the parent and after its lifetime) and then
`run_commands`, which runs the parent's commands on an object of its own until `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import math
import os
import platform
import resource
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from multiprocessing.connection import Connection
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


class RunFailed(Exception):
    pass


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raise_file_limit() -> None:
    """Let this process open as many sockets as the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def die_with_parent() -> None:
    """For `subprocess.Popen(preexec_fn=...)`: the process is killed when the benchmark ends, however it ends."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    raise_file_limit()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, every thread


def machine_busy_seconds() -> float:
    """CPU-seconds every process on the machine has used since boot (ours and anyone else's)."""
    with open("/proc/stat") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / TICKS


def wait_for_quiet(progress: Callable[[str], None], patience: float = 120) -> None:
    """Start a run when other work (tests, builds) leaves the machine nearly idle, or after `patience`."""
    deadline = time.monotonic() + patience
    while True:
        before = machine_busy_seconds()
        time.sleep(2)
        busy = (machine_busy_seconds() - before) / 2
        if busy < 0.25 or time.monotonic() > deadline:
            if busy >= 0.25:
                progress(f"starting anyway: other work uses {busy * 100:.0f}% of a core")
            return
        progress(f"other work uses {busy * 100:.0f}% of a core: waiting for it to settle")


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


class Child:
    """The parent's handle on a spawned process that runs `target(conn, *args)` (which calls `run_commands`)."""

    def __init__(self, context: Any, name: str, target: Callable[..., None], *args: Any) -> None:
        self.name = name
        self.conn, child_end = context.Pipe()
        self.process = context.Process(target=target, args=(child_end, *args), name=name, daemon=True)
        self.process.start()
        child_end.close()
        self._ready = False
        self._busy = False  # a command was sent and its reply not read: the child will not hear "stop" soon

    def wait_ready(self, timeout: float = 60) -> None:
        self.receive("start", timeout)
        self._ready = True

    def send(self, name: str, *args: Any) -> None:
        """Start a command without waiting for it: several children can work at once, `receive` each reply."""
        try:
            self.conn.send((name, args))
        except OSError as exc:
            raise RunFailed(f"the {self.name} process is gone") from exc
        self._busy = True

    def receive(self, name: str, timeout: float) -> Any:
        try:
            if not self.conn.poll(timeout):
                raise RunFailed(f"the {self.name} process did not answer {name!r} within {timeout:.0f} s")
            status, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise RunFailed(f"the {self.name} process ended (exit code {self.process.exitcode})") from exc
        self._busy = False
        if status != "ok":
            raise RunFailed(f"{self.name}, {name}: {value}")
        return value

    def call(self, name: str, *args: Any, timeout: float = 30) -> Any:
        self.send(name, *args)
        return self.receive(name, timeout)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def end(self) -> None:
        """Stop the child: politely when it is idle, at once when a run was cut short in the middle."""
        if self._ready and not self._busy and self.process.is_alive():
            with contextlib.suppress(RunFailed):
                self.call("stop", timeout=15)
            self.process.join(3)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def child_process(parent: int, lifetime: float) -> None:
    """First thing in a child: Ctrl+C is the parent's (it ends every child), and the child never outlives
    the parent or `lifetime` seconds, whatever happens."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    threading.Timer(lifetime, os._exit, args=(2,)).start()
    raise_file_limit()


async def run_commands(conn: Connection, target: object) -> None:
    """Run the parent's commands `(name, args)` as `await target.name(*args)`, replying to each, until `stop`."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):  # the parent is gone
            loop.remove_reader(conn.fileno())
            inbox.put_nowait(("stop", ()))

    loop.add_reader(conn.fileno(), readable)
    conn.send(("ok", "ready"))
    while True:
        name, args = await inbox.get()
        try:
            method: Callable[..., Awaitable[Any]] = getattr(target, name)
            reply: tuple[str, Any] = ("ok", await method(*args))
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(OSError):
            conn.send(reply)
        if name == "stop":
            return


# --- the table -----------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)) + " |" for row in [header, *rows]
    ]
    return "\n".join([lines[0], "|" + "|".join("-" * (w + 2) for w in widths) + "|", *lines[1:]])


def machine(*packages: str) -> str:
    """The CPUs, Python and the named packages' versions, for the line above a table."""
    with open("/proc/cpuinfo") as info:
        model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    versions = "".join(f", {package} {version(package)}" for package in packages)
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}{versions}"


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (`q` from 0 to 1); NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] if ordered else math.nan
