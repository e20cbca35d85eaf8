"""`shopcast serve --workers N`: N app processes on one port, kept running.

The supervisor binds N sockets on the port with SO_REUSEPORT, one per worker, and keeps them: the
kernel spreads new connections over them, and a worker that restarts takes its socket back with the
connections that queued meanwhile. Each worker is `python -m shopcast.web.server`, an app process
like any replica, sharing rooms, counts and sessions with the others through Redis.

- A worker that exits unasked (a crash, SIGKILL, the out-of-memory killer) is started again, after a
  pause that grows while it keeps failing; one that fails MAX_FAILED_STARTS times in a row without
  ever getting ready stops everything (its settings are wrong: its log says why).
- SIGTERM or SIGINT to the supervisor is passed on to every worker, which stops gracefully (clients
  told, the outbox's sends finished); a worker still there after STOP_SECONDS is killed.
- Each worker asks the kernel for SIGTERM when the supervisor dies (PR_SET_PDEATHSIG), so even a
  supervisor killed with SIGKILL leaves no worker behind.
- The workers run in a process group of their own: Ctrl+C in a terminal reaches the supervisor
  alone, which stops them once.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

log = logging.getLogger("shopcast.supervisor")
MAX_FAILED_STARTS = 3
FIRST_PAUSE_SECONDS = 0.5
LONGEST_PAUSE_SECONDS = 30.0
STEADY_SECONDS = 30.0  # a worker up this long that exits is started again without waiting long
# A worker's stop waits 8 s at most for its requests in flight (web/server.py), then up to 10 s for
# the outbox's sends (outbox/worker.py), then closes the rest.
STOP_SECONDS = 30.0
TICK_SECONDS = 0.2


class WorkersFailed(Exception):
    """A worker cannot start: the reason is in its log."""


@dataclass
class Worker:
    index: int
    sock: socket.socket
    process: subprocess.Popen[bytes] | None = None
    ready: bool = False
    failed_starts: int = 0  # exits in a row before getting ready
    pause: float = 0.0  # before the next start, growing while it keeps crashing
    start_at: float = 0.0
    started: float = 0.0


class Supervisor:
    def __init__(
        self, sockets: list[socket.socket], settings: Callable[[int], dict[str, Any]], *, on_ready: Callable[[], None]
    ) -> None:
        """`settings(index)`: what worker `index` is given beyond the environment; `on_ready` runs once,
        when every worker first is ready."""
        self._workers = [Worker(index, sock) for index, sock in enumerate(sockets)]
        self._settings = settings
        self._on_ready = on_ready
        self._announced = False
        self._stop: int | None = None
        self._status_read, self._status_write = os.pipe()
        os.set_blocking(self._status_read, False)
        self._pending = b""

    def run(self) -> int:
        """Run the workers until SIGTERM or SIGINT; the exit status."""
        previous = {number: signal.signal(number, self._asked_to_stop) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            for worker in self._workers:
                self._start(worker)
            while self._stop is None:
                self._watch()
                select.select([self._status_read], [], [], TICK_SECONDS)
                self._read_status()
        finally:
            self._stop_all()
            for number, handler in previous.items():
                signal.signal(number, handler)
            os.close(self._status_read)
            os.close(self._status_write)
        return 0

    def _asked_to_stop(self, number: int, _frame: FrameType | None) -> None:
        self._stop = number

    def _start(self, worker: Worker) -> None:
        command = [
            sys.executable, "-m", "shopcast.web.server",
            "--index", str(worker.index),
            "--listen-fd", str(worker.sock.fileno()),
            "--status-fd", str(self._status_write),
            "--parent", str(os.getpid()),
            "--settings", json.dumps(self._settings(worker.index)),
        ]  # fmt: skip
        worker.process = subprocess.Popen(
            command, pass_fds=(worker.sock.fileno(), self._status_write), process_group=0, stdin=subprocess.DEVNULL
        )
        worker.ready, worker.started = False, time.monotonic()
        log.info("worker %d started (pid %d)", worker.index, worker.process.pid)

    def _watch(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            if worker.process is None:
                if now >= worker.start_at:
                    self._start(worker)
                continue
            code = worker.process.poll()
            if code is None or self._stop is not None:
                continue
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            if not worker.ready:
                worker.failed_starts += 1
                if worker.failed_starts >= MAX_FAILED_STARTS:
                    raise WorkersFailed(
                        f"worker {worker.index} {how} before it was ready, {worker.failed_starts} times in a row "
                        "(its log above says why)"
                    )
            steady = worker.ready and now - worker.started >= STEADY_SECONDS
            worker.pause = FIRST_PAUSE_SECONDS if steady else min(LONGEST_PAUSE_SECONDS, 2 * worker.pause or 1.0)
            worker.process, worker.start_at = None, now + worker.pause
            log.warning("worker %d %s: starting it again in %.1f s", worker.index, how, worker.pause)

    def _read_status(self) -> None:
        try:
            self._pending += os.read(self._status_read, 4096)
        except BlockingIOError:
            return
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            parts = line.decode().split()  # "ready INDEX PID NODE", from shopcast.web.server
            if len(parts) != 4 or parts[0] != "ready":
                continue
            _, index, pid, node = parts
            worker = self._workers[int(index)]
            if worker.process is not None and worker.process.pid == int(pid):
                worker.ready, worker.failed_starts = True, 0
                log.info("worker %d ready (pid %s, node %s)", worker.index, pid, node)
        if not self._announced and all(w.ready for w in self._workers):
            self._announced = True
            self._on_ready()

    def _stop_all(self) -> None:
        running = [w.process for w in self._workers if w.process is not None and w.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop within %d s: killed", process.pid, STOP_SECONDS)
                process.kill()
                process.wait()
        for worker in self._workers:
            worker.sock.close()
