"""Socket.IO clients for tests of the live room, following the protocol of docs/api.md."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

STATE_EVENTS = ("presence:count", "chat:reactions")


class Viewer:
    """A python-socketio client that records what it hears, in order."""

    def __init__(self, *, reconnection: bool = False) -> None:
        self.sio = socketio.AsyncClient(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=0.5)
        self.heard: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.log: list[tuple[str, Any]] = []
        self.refusal: Any = None
        self.token: str | None = None
        self.ack: Any = None  # the join's

        @self.sio.on("*")
        async def anything(event: str, data: Any) -> None:
            self.log.append((event, data))
            await self.heard.put((event, data))

        @self.sio.event
        async def connect_error(data: Any) -> None:
            self.refusal = data

    async def connect(
        self, client: Any, token: str | None, headers: dict[str, str] | None = None, transports: list[str] | None = None
    ) -> None:
        url = client if isinstance(client, str) else str(client.make_url("/"))
        await self.sio.connect(
            url,
            auth={"token": token} if token else None,
            transports=transports or ["websocket"],
            headers=headers or {},
            wait_timeout=10,
        )

    async def call(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, timeout=10)

    async def next(self) -> tuple[str, Any]:
        async with asyncio.timeout(10):
            return await self.heard.get()

    async def wait_for(self, event: str, **fields: Any) -> Any:
        """The next `event` whose payload has these fields (earlier other events are skipped)."""
        async with asyncio.timeout(10):
            while True:
                name, data = await self.heard.get()
                if name == event and all(data.get(k) == v for k, v in fields.items()):
                    return data

    async def settle(self) -> None:
        """A round trip: whatever the server wrote to this client before it is now in `log`."""
        await self.call("ping", {})

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.log if event == name]


async def send(viewer: Viewer, episode_id: str, text: str, **fields: Any) -> dict[str, Any]:
    ack = await viewer.call("chat:send", {"episode_id": episode_id, "text": text, **fields})
    assert ack["ok"], ack
    return ack["message"]
