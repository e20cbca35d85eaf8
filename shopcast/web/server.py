"""Serving the app from this process: on the public listening socket, and with Redis on an internal
listener of its own, where other app processes pass on requests for the sessions this one holds
(web/forwarding.py).

`shopcast serve` with one worker calls `serve` itself; with several, the supervisor (shopcast/supervisor.py)
starts each worker as `python -m shopcast.web.server`, handing it its listening socket.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

from aiohttp import web

from shopcast.core.settings import Settings
from shopcast.web.app import create_app
from shopcast.web.event_loop import new_event_loop
from shopcast.web.forwarding import FORWARDER, INTERNAL_LISTENER

log = logging.getLogger("shopcast.web.server")  # its name when run as a worker (__main__) too
# How long a stop waits for the requests in flight before cancelling them (aiohttp's default is 60 s).
# The last writes come after this wait, and a container is killed 10 s after being told to stop
# (Docker's default), so it must be short: long polls left behind by clients that have gone (a closed
# tab, say) never end by themselves before engine.io's ping timeout, 45 s.
REQUESTS_IN_FLIGHT_SECONDS = 8.0
BACKLOG = 1024  # a rush of viewers connects at once: the kernel queues this many per socket until taken
PR_SET_PDEATHSIG = 1


def listening_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A TCP socket listening on host:port; `shared`: SO_REUSEPORT, each worker's socket on the same
    port, the kernel spreading new connections over them."""
    addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = addresses[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def internal_listener(app: web.Application, settings: Settings) -> socket.socket | None:
    """With Redis, the socket other app processes pass requests on to, its address set on the app
    (which announces it as it starts); without, none: no other process could find it."""
    if settings.redis_url is None:
        return None
    internal = listening_socket(settings.internal_host, 0)
    app[INTERNAL_LISTENER] = (settings.internal_host, internal.getsockname()[1])
    return internal


def serve(settings: Settings, public: socket.socket, *, on_ready: Callable[[str], None]) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully; `on_ready(node_id)` once listening."""
    app = create_app(settings)
    internal = internal_listener(app, settings)
    sockets = [public] if internal is None else [public, internal]

    def ready(*_: object) -> None:
        stop_once_on_sigterm(asyncio.get_running_loop())
        on_ready(app[FORWARDER].nodes.id)
        # What exists once the app is up (modules, the schema, compiled statements: most of the
        # objects the collector tracks) lives as long as the process: leave it out of the full
        # collections, which would otherwise stop the event loop to go through it again and again.
        gc.freeze()

    say_how_it_stops(app)
    loop = new_event_loop(settings.event_loop)
    web.run_app(
        app,
        sock=sockets,
        print=ready,
        access_log=None,
        backlog=BACKLOG,
        loop=loop,
        shutdown_timeout=REQUESTS_IN_FLIGHT_SECONDS,
    )


def stop_once_on_sigterm(loop: asyncio.AbstractEventLoop) -> None:
    """The first SIGTERM stops the app gracefully, as aiohttp's own handler does; a second one, which
    would interrupt that stop halfway (the last facts unwritten), is only logged. systemd, for one,
    sends it to every process of the service while the supervisor passes its own on."""
    stopping = False

    def asked_to_stop() -> None:
        nonlocal stopping
        if stopping:
            log.info("stopping already")
            return
        stopping = True
        raise web.GracefulExit()

    loop.add_signal_handler(signal.SIGTERM, asked_to_stop)


def say_how_it_stops(app: web.Application) -> None:
    """Log the stages of a graceful stop, so that a slow one shows where its time went (between the
    second and third lines: requests still in flight, which aiohttp waits for)."""

    async def telling_clients(_app: web.Application) -> None:
        log.info("stopping: no new connections; telling the clients")

    async def clients_told(_app: web.Application) -> None:
        log.info("stopping: clients told; waiting for the requests in flight")

    async def stopped(_app: web.Application) -> None:
        log.info("stopped")

    app.on_shutdown.insert(0, telling_clients)
    app.on_shutdown.append(clients_told)
    app.on_cleanup.append(stopped)  # after every cleanup context's


def _die_with(parent: int) -> None:
    """Stop (SIGTERM) when the supervisor dies, however it dies: no worker is left behind."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's SIGTERM still reaches us
        return
    if os.getppid() != parent:  # it died before the request was in place
        sys.exit(0)


def main() -> None:
    """One worker of `shopcast serve --workers N`, started by the supervisor."""
    parser = argparse.ArgumentParser(prog="shopcast worker process")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--settings", required=True, help="settings given on the command line, as JSON")
    args = parser.parse_args()
    _die_with(args.parent)
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s %(levelname)s worker {args.index} %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings(**json.loads(args.settings))
    public = socket.socket(fileno=args.listen_fd)

    def ready(node_id: str) -> None:
        os.write(args.status_fd, f"ready {args.index} {os.getpid()} {node_id}\n".encode())

    serve(settings, public, on_ready=ready)


if __name__ == "__main__":
    main()
