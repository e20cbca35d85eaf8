"""WebRTC's UDP ports inside SHOPCAST_WEBRTC_PORTS, so that a firewall or a container publishes exactly those.

aioice (0.13, under aiortc) binds each host candidate's socket to port 0, one the system picks, and
has no option for a range (aiortc/aioice#47; pull request #112 proposes one). Until it has one,
`bind_within` gives the `aioice.ice` module a view of asyncio of its own whose running loop takes
the one call aioice makes with `local_addr=(address, 0)` (gathering host candidates) and answers it
with a socket bound inside the range; every other call goes to asyncio and the loop untouched.
STUN answers arrive on that same socket, so a server-reflexive candidate keeps the range's port;
sockets to a TURN server are outgoing and keep a port the system picks.

The processes of one machine (or container) share the range: each takes the ports in turn from a
random place and keeps the first one free. A bind either succeeds or says the port is in use, so
two sessions never share a port, whichever process they are in.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aioice.ice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortRange:
    """UDP ports from `first` to `last`, both included."""

    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


class PortPool:
    """Binds UDP sockets on the range's ports, each time on the next free one after the last it gave."""

    def __init__(self, ports: PortRange) -> None:
        self.ports = ports
        # From a random place: processes starting together do not all try the same ports first.
        self._next = random.randrange(len(ports))

    def bind(self, host: str) -> socket.socket:
        """A UDP socket bound to `host` on a free port of the range; OSError(EADDRINUSE) when none is."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(len(self.ports)):
            port = self.ports.first + self._next
            self._next = (self._next + 1) % len(self.ports)
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((host, port))
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            return sock
        full = f"every UDP port of SHOPCAST_WEBRTC_PORTS ({self.ports}) is in use on {host}"
        log.warning("%s: a WebRTC session cannot be offered", full)
        raise OSError(errno.EADDRINUSE, full)


class _LoopBindingWithin:
    """The running loop as aioice sees it: host candidates' sockets bound inside the range."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: PortPool) -> None:
        self._loop = loop
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)

    async def create_datagram_endpoint(
        self, protocol_factory: Callable[[], asyncio.DatagramProtocol], local_addr: Any = None, **kwargs: Any
    ) -> tuple[asyncio.DatagramTransport, asyncio.DatagramProtocol]:
        if local_addr is None or local_addr[1] != 0 or kwargs.get("sock") is not None:
            return await self._loop.create_datagram_endpoint(protocol_factory, local_addr=local_addr, **kwargs)
        sock = self._pool.bind(local_addr[0])
        try:
            return await self._loop.create_datagram_endpoint(protocol_factory, sock=sock, **kwargs)
        except BaseException:
            sock.close()
            raise


class _AsyncioBindingWithin:
    """asyncio as `aioice.ice` sees it: the same, but for the running loop it is given."""

    def __init__(self, pool: PortPool) -> None:
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def get_running_loop(self) -> _LoopBindingWithin:
        return _LoopBindingWithin(asyncio.get_running_loop(), self._pool)


def bind_within(ports: PortRange | None) -> None:
    """From now on aioice binds host candidates inside `ports` (None: on ports the system picks)."""
    aioice.ice.asyncio = asyncio if ports is None else _AsyncioBindingWithin(PortPool(ports))  # type: ignore[attr-defined]
