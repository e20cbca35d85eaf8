"""Socket.IO clients for tests of the live room, following the protocol of docs/api.md."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import socketio
from aiohttp import web
from sqlalchemy import text

from shopcast.web.context import RESOURCES

STATE_EVENTS = ("presence:count", "chat:reactions")


class Viewer:
    """A python-socketio client that records what it hears, in order."""

    def __init__(self, *, reconnection: bool = False) -> None:
        self.sio = socketio.AsyncClient(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=0.5)
        self.heard: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.log: list[tuple[str, Any]] = []
        self._looked: dict[str, int] = {}  # per event name: how far `wait_for` has read the log
        self._news = asyncio.Condition()
        self.refusal: Any = None
        self.goodbye: Any = None  # why the connection ended (`sio.reason`)
        self.token: str | None = None
        self.ack: Any = None  # the join's

        @self.sio.on("*")
        async def anything(event: str, data: Any) -> None:
            self.log.append((event, data))
            await self.heard.put((event, data))
            async with self._news:
                self._news.notify_all()

        @self.sio.event
        async def connect_error(data: Any) -> None:
            self.refusal = data

        @self.sio.event
        async def disconnect(reason: Any = None) -> None:
            self.goodbye = reason

    async def connect(
        self,
        client: Any,
        token: str | None,
        headers: dict[str, str] | None = None,
        transports: list[str] | None = None,
        lang: str | None = None,
    ) -> None:
        """`lang`: the page's language, named in `auth` as the watch page and the studio do."""
        url = client if isinstance(client, str) else str(client.make_url("/"))
        auth = {"token": token} if token else {}
        if lang:
            auth["lang"] = lang
        await self.sio.connect(
            url,
            auth=auth or None,
            transports=transports or ["websocket"],
            headers=headers or {},
            wait_timeout=10,
        )

    async def call(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, timeout=10)

    async def call_raw(self, packet: str) -> Any:
        """Send `[event, data…]` as JSON text, as is (python-socketio cannot encode data nested as
        deep as a browser can), and return the ack."""
        acked = asyncio.get_running_loop().create_future()
        ack_id = self.sio._generate_ack_id("/", lambda *data: acked.set_result(data[0] if len(data) == 1 else data))
        await self.sio.eio.send(f"2{ack_id}{packet}")  # a Socket.IO EVENT with an ack id, default namespace
        async with asyncio.timeout(10):
            return await acked

    async def next(self) -> tuple[str, Any]:
        async with asyncio.timeout(10):
            return await self.heard.get()

    async def wait_for(self, event: str, **fields: Any) -> Any:
        """The next `event` whose payload has these fields; waiting for one event name never
        skips events of another (they stay in `log` for their own `wait_for`)."""
        async with asyncio.timeout(10), self._news:
            while True:
                start = self._looked.get(event, 0)
                for index in range(start, len(self.log)):
                    name, data = self.log[index]
                    if name == event and all(data.get(k) == v for k, v in fields.items()):
                        self._looked[event] = index + 1
                        return data
                await self._news.wait()

    async def settle(self) -> None:
        """A round trip: whatever the server wrote to this client before it is now in `log`."""
        await self.call("ping", {})

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.log if event == name]


async def send(viewer: Viewer, episode_id: str, text: str, **fields: Any) -> dict[str, Any]:
    ack = await viewer.call("chat:send", {"episode_id": episode_id, "text": text, **fields})
    assert ack["ok"], ack
    return ack["message"]


@asynccontextmanager
async def database_taken(app: web.Application) -> AsyncIterator[None]:
    """Every connection of the app's database pool in use (with SHOPCAST_DATABASE_POOL_SIZE=1, the
    one this holds), as in a rush: joins wait for one, and stay in the line meanwhile."""
    async with app[RESOURCES].database.transaction() as session:
        await session.execute(text("SELECT 1"))
        yield


async def line_filled(url: str, episode_id: str) -> tuple[Viewer, dict[str, Any], Viewer, asyncio.Future[Any]]:
    """With SHOPCAST_JOIN_QUEUE_MOST=1 and the database taken, two viewers join together: one waits in
    the line, the other is refused at once. The refused viewer and its error, the other and its join."""
    viewers = [Viewer(), Viewer()]
    for viewer in viewers:
        await viewer.connect(url, None)
    joins = {asyncio.ensure_future(v.call("join", {"episode_id": episode_id})): v for v in viewers}
    done, waiting = await asyncio.wait(joins, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1 and len(waiting) == 1
    refused, still = done.pop(), waiting.pop()
    ack = refused.result()
    assert ack["ok"] is False, ack
    return joins[refused], dict(ack["error"]), joins[still], still


def assert_busy(error: dict[str, Any]) -> int:
    """The busy refusal's shape (docs/api.md); the seconds it says to come back after."""
    assert error["type"] == "urn:shopcast:problem:busy"
    assert error["status"] == 503
    seconds = error["retry_after"]
    assert isinstance(seconds, int) and seconds >= 1
    return int(seconds)


class Follower(Viewer):
    """A client that keeps a room's chat whole, as the pages do: rejoins with `last_seq` after every
    reconnect, drops what it already has and rejoins when it sees a gap in `seq`."""

    def __init__(self, episode_id: str) -> None:
        super().__init__(reconnection=True)
        self.episode_id = episode_id
        self.last_seq: int | None = None
        self.messages: list[dict[str, Any]] = []
        self.recovered: list[str] = []  # ids of the messages a rejoin's `missed` brought back
        self.joins = 0
        self.joined = asyncio.Event()
        self._early: list[tuple[str, Any]] = []
        self._joining = True
        self._tasks: set[asyncio.Task[None]] = set()

        @self.sio.event
        async def connect() -> None:
            # Not awaited here: the client reads the join's ack only after this handler returns.
            task = asyncio.create_task(self.rejoin())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        @self.sio.on("chat:message")
        async def message(data: Any) -> None:
            await self.take("chat:message", data)

    async def rejoin(self) -> None:
        self._joining = True
        request: dict[str, Any] = {"episode_id": self.episode_id}
        if self.last_seq is not None:
            request["last_seq"] = self.last_seq
        ack = await self.call("join", request)
        assert ack["ok"], ack
        self.joins += 1
        self.joined.set()
        if "snapshot" in ack:
            self.messages = list(ack["snapshot"]["chat"])
        for missed in ack.get("missed", []):
            if missed["event"] == "chat:message":
                self.messages.append(missed["payload"]["message"])
                self.recovered.append(missed["payload"]["message"]["id"])
        self.last_seq = ack["seq"]
        self._joining = False
        early, self._early = self._early, []
        for event, data in early:
            await self.take(event, data)

    async def take(self, event: str, data: Any) -> None:
        if self._joining:
            self._early.append((event, data))
            return
        assert self.last_seq is not None
        if data["seq"] <= self.last_seq:
            return  # already had it
        if data["seq"] > self.last_seq + 1:
            await self.rejoin()  # a gap: catch up from the log
            return
        self.last_seq = data["seq"]
        self.messages.append(data["message"])
