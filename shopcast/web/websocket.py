"""Engine.IO's WebSocket transport on aiohttp: uncompressed, and reachable by room fan-out.

engineio's own aiohttp driver opens every WebSocket with per-message deflate (about 200 KB of zlib
state per connection, and a compression per message per viewer) and hides the connection from
everything but engineio's per-client writer task. This driver, installed with `install`, opens them
uncompressed and keeps a registry, engineio sid → `Connection`, through which room fan-out writes
frames it encoded once (see `shopcast.web.fanout`).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
from aiohttp import web

_FIN_TEXT = 0x81  # a final (unfragmented) text frame; server frames are never masked


def text_frame(payload: bytes) -> bytes:
    """One unmasked WebSocket text frame: what a server sends, identical for every client."""
    size = len(payload)
    if size < 126:
        return bytes((_FIN_TEXT, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", _FIN_TEXT, 126, size) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, size) + payload


class Connection:
    """One client's WebSocket, as room fan-out sees it."""

    __slots__ = ("sending", "sid", "transport")

    def __init__(self, sid: str, transport: Any) -> None:
        self.sid = sid
        """The engineio sid."""
        self.transport = transport
        """The aiohttp connection's asyncio transport."""
        self.sending = 0
        """Writes engineio's writer task has started and not finished (it waits while the client is slow)."""


class WebSocketDriver:
    """engineio's `websocket` driver (`__call__`, `send`, `wait`, `close`), as in engineio's aiohttp driver."""

    def __init__(
        self,
        handler: Callable[[WebSocketDriver], Awaitable[None]],
        server: engineio.AsyncServer,
        *,
        connections: dict[str, Connection],
    ) -> None:
        self.handler = handler
        self.server = server
        self._connections = connections
        self._ws: web.WebSocketResponse | None = None
        self._connection: Connection | None = None

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request: web.Request = environ["aiohttp.request"]
        ws = self._ws = web.WebSocketResponse(compress=False, max_msg_size=self.server.max_http_buffer_size)
        await ws.prepare(request)
        self.environ = environ
        # engineio hands its socket's bound handler over: its owner is the engineio socket.
        sid: str = self.handler.__self__.sid  # type: ignore[attr-defined]
        self._connection = Connection(sid, request.transport)
        self._connections[sid] = self._connection
        try:
            await self.handler(self)
        finally:
            if self._connections.get(sid) is self._connection:
                del self._connections[sid]
        return ws

    async def close(self) -> None:
        assert self._ws is not None
        await self._ws.close()

    async def send(self, message: str | bytes) -> None:
        # Uncompressed, aiohttp writes the frame at once and only waits while the client is
        # slow (over its write buffer); fan-out must not write past what waits here.
        assert self._ws is not None and self._connection is not None
        self._connection.sending += 1
        try:
            if isinstance(message, bytes):
                await self._ws.send_bytes(message)
            else:
                await self._ws.send_str(message)
        finally:
            self._connection.sending -= 1

    async def wait(self) -> str | bytes:
        assert self._ws is not None
        message = await self._ws.receive()
        if not isinstance(message.data, (bytes, str)):
            raise OSError()
        return message.data


def install(eio: engineio.AsyncServer) -> dict[str, Connection]:
    """Serve `eio`'s WebSockets with `WebSocketDriver`; return the live registry of its connections."""
    connections: dict[str, Connection] = {}
    # A copy: engineio's driver table is shared by every server of the process.
    eio._async = {**eio._async, "websocket": functools.partial(WebSocketDriver, connections=connections)}
    return connections
