"""Socket.IO v5 over Engine.IO v4 over a raw WebSocket, written by hand.

Light enough for thousands of connections in one load-client process, and raw enough for tests to
behave like a client that stops reading. Only what a viewer needs: the WebSocket handshake, masked
text frames out, unmasked frames in, pings answered, events and acks.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from typing import Any

import orjson

PATH = "/socket.io/?EIO=4&transport=websocket"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
COMPRESSED = 0x40  # RSV1 on a frame's opcode: its payload is deflated (permessage-deflate)
BROWSER_OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium and Firefox ask for


def handshake(host: str, port: int, *, extensions: str | None = None) -> bytes:
    """The HTTP request that opens a WebSocket to Shopcast's Socket.IO endpoint."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {PATH} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *([f"Sec-WebSocket-Extensions: {extensions}"] if extensions else []),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def client_frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """A masked frame, as clients must send them (RFC 6455 5.3)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    # XOR with the mask repeated: one big-integer operation instead of a byte loop.
    repeated = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")
    return header + mask + masked


def event_packet(event: str, data: Any, ack_id: int | None = None) -> bytes:
    """An engine.io MESSAGE carrying a Socket.IO EVENT (`42[...]`, with an ack id when one is wanted)."""
    return b"42" + (str(ack_id).encode() if ack_id is not None else b"") + orjson.dumps([event, data])


def take_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Complete (opcode, payload) frames at the start of `buffer`, removed from it. Server frames are unmasked.

    The opcode keeps the `COMPRESSED` bit of a deflated frame.
    """
    frames = []
    at, end = 0, len(buffer)
    while end - at >= 2:
        opcode, size = buffer[at] & (COMPRESSED | 0x0F), buffer[at + 1] & 0x7F
        start = at + 2
        if size == 126:
            if end - at < 4:
                break
            size, start = struct.unpack_from("!H", buffer, at + 2)[0], at + 4
        elif size == 127:
            if end - at < 10:
                break
            size, start = struct.unpack_from("!Q", buffer, at + 2)[0], at + 10
        if end - start < size:
            break
        frames.append((opcode, bytes(buffer[start : start + size])))
        at = start + size
    del buffer[:at]
    return frames


def split_response(buffer: bytearray) -> tuple[int, dict[str, str]] | None:
    """The status and headers of a complete HTTP response head at the start of `buffer` (removed)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[: end + 4]
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


class RawViewer:
    """A Socket.IO client on a bare socket, read only when the test says so."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]) -> None:
        self.reader = reader
        self.writer = writer
        self.headers = headers
        self._buffer = bytearray()
        self._frames: list[tuple[int, bytes]] = []

    @classmethod
    async def open(
        cls, host: str, port: int, *, receive_buffer: int | None = None, extensions: str | None = None
    ) -> RawViewer:
        """A WebSocket to Socket.IO (engine.io's OPEN packet read); `receive_buffer` shrinks the kernel's."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(handshake(host, port, extensions=extensions))
        buffer = bytearray()
        while (response := split_response(buffer)) is None:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection during the handshake")
            buffer += chunk
        status, headers = response
        if status != 101:
            raise ConnectionError(f"the WebSocket handshake got {status}")
        viewer = cls(reader, writer, headers)
        viewer._buffer = buffer
        # The server's first frames may have come with its response head: read them now, or they
        # wait for the next bytes (a ping, 25 s later).
        viewer._frames += take_frames(viewer._buffer)
        opened = await viewer.receive()
        if not opened.startswith("0"):
            raise ConnectionError(f"expected engine.io OPEN, got {opened[:80]!r}")
        return viewer

    def send(self, packet: bytes) -> None:
        self.writer.write(client_frame(packet))

    async def receive(self) -> str:
        """The next engine.io packet (pings are answered on the way)."""
        while True:
            while self._frames:
                opcode, payload = self._frames.pop(0)
                if opcode == CLOSE:
                    raise ConnectionError("the server closed the WebSocket")
                if payload == b"2":
                    self.send(b"3")
                    continue
                if opcode == TEXT:
                    return payload.decode()
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buffer += chunk
            self._frames += take_frames(self._buffer)

    async def connect(self, token: str) -> None:
        """Socket.IO CONNECT with the token; raise if refused."""
        self.send(b"40" + orjson.dumps({"token": token}))
        reply = await self.receive()
        if not reply.startswith("40"):
            raise ConnectionError(f"Socket.IO connect refused: {reply[:200]}")

    async def call(self, event: str, data: Any, ack_id: int = 1) -> Any:
        """Send an event and return its ack's data (events heard meanwhile are dropped)."""
        self.send(event_packet(event, data, ack_id))
        prefix = f"43{ack_id}["
        while not (packet := await self.receive()).startswith(prefix):
            pass
        return orjson.loads(packet[len(prefix) - 1 :])[0]

    def close(self) -> None:
        self.writer.transport.abort()
