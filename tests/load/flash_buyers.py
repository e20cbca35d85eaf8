"""The buyers of the flash-sale benchmark (tests/load/flash_sale.py), many to a load-client process.

Each buyer is a guest (`POST /api/v1/auth/guest`) with its own keep-alive connection to one app
process: the viewer's browser has had the page open for a while, and with two app processes a buyer
always talks to the same one, as behind a proxy with sticky sessions. On the parent's word every
buyer of every process sends at the same instant (`time.monotonic()`, one clock for every process
of the machine). Each request's time runs from just before it is sent to its answer, read.

With `--via socket` a buyer is also a viewer of the live room, as the player is: after the sign-up
(untimed) it opens a WebSocket to Socket.IO with its guest token and `join`s the episode, as
`tests/load/room_clients.py`'s viewers do; its tap is the room's `cart:add` with an ack, timed from
just before the packet is written to the ack, read.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from tests.load.harness import child_process, run_commands
from tests.load.room_clients import Tally, Viewer
from tests.load.socketio_wire import event_packet

TIMEOUT = aiohttp.ClientTimeout(total=120)
SIGNING_UP_AT_ONCE = 25
JOINING_AT_ONCE = 50
TAP_ACK = 1  # the ack id of a buyer's tap (the join's is 0)
STORE_ID = "bench-store"


class Answer:
    """One request's outcome: its status (0 when no answer came), why, and when it was sent and answered."""

    __slots__ = ("answered", "body", "sent", "status")

    def __init__(self, status: int, body: Any, sent: float, answered: float) -> None:
        self.status, self.body, self.sent, self.answered = status, body, sent, answered

    @classmethod
    def of_ack(cls, payload: bytes, sent: float, answered: float) -> Answer:
        """A Socket.IO ack (`43<id>[{ok, …}]`) as the HTTP answer it stands for: 201, or the refusal's status."""
        body = orjson.loads(payload[payload.index(b"[") :])[0]
        if body.get("ok"):
            return cls(201, body, sent, answered)
        return cls(int(body["error"]["status"]), body["error"], sent, answered)

    @property
    def outcome(self) -> str:
        """What the parent tallies: "ok", "sold out", or the status and the reason given."""
        if self.status in (200, 201):
            return "ok"
        detail = self.body.get("detail", "") if isinstance(self.body, dict) else str(self.body)
        if self.status == 409 and ("sold out" in detail or " left of " in detail):
            return "sold out"
        return f"{self.status} {detail}"[:100]


class Buyer:
    def __init__(self, number: int, base: str) -> None:
        self.number = number
        self.base = base
        self.http = aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT)
        self.headers: dict[str, str] = {}
        self.added: Answer | None = None
        self.ordered: Answer | None = None
        self.viewer: Viewer | None = None  # in the live room, with `--via socket`

    async def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        sent = time.monotonic()
        try:
            async with self.http.request(method, path, json=body, headers={**self.headers, **(headers or {})}) as r:
                answer = await r.json() if r.content_type == "application/problem+json" else await r.read()
                return Answer(r.status, answer, sent, time.monotonic())
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Answer(0, f"{type(exc).__name__}: {exc}", sent, time.monotonic())

    async def sign_up(self) -> None:
        signed = await self.request("POST", "/api/v1/auth/guest", {"nickname": f"Buyer {self.number}"})
        if signed.status != 201:
            raise RuntimeError(f"guest sign-up: {signed.outcome}")
        self.headers = {"Authorization": f"Bearer {orjson.loads(signed.body)['token']}"}

    async def add(self, brand: str, variant_id: str, episode_id: str | None) -> None:
        body: dict[str, Any] = {"variant_id": variant_id, "quantity": 1}
        if episode_id is not None:
            body["episode_id"] = episode_id
        self.added = await self.request("POST", f"/api/v1/brands/{brand}/cart/items", body)

    async def join(self, episode_id: str, tally: Tally) -> None:
        """Into the live room as the player goes: WebSocket, Socket.IO connect with the token, `join`."""
        token = self.headers["Authorization"].removeprefix("Bearer ")
        port = urlsplit(self.base).port
        assert port is not None
        loop = asyncio.get_running_loop()
        _, self.viewer = await loop.create_connection(lambda: Viewer(port, episode_id, tally, token), "127.0.0.1", port)
        async with asyncio.timeout(60):
            await self.viewer.joined

    async def tap(self, variant_id: str, episode_id: str) -> None:
        """The player's "add" on the pinned product: the room's `cart:add`, answered by its ack."""
        assert self.viewer is not None
        acked: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.viewer.acks[TAP_ACK] = acked.set_result
        request = {"episode_id": episode_id, "variant_id": variant_id, "quantity": 1}
        sent = time.monotonic()
        self.viewer.send(event_packet("cart:add", request, TAP_ACK))
        try:
            async with asyncio.timeout(TIMEOUT.total):
                payload = await acked
        except TimeoutError:
            self.added = Answer(0, "no ack", sent, time.monotonic())
            return
        self.added = Answer.of_ack(payload, sent, time.monotonic())

    def leave(self) -> None:
        if self.viewer is not None and self.viewer.transport is not None:
            self.viewer.transport.abort()
        self.viewer = None

    async def check_out(self, brand: str) -> None:
        body = {
            "email": f"buyer{self.number}@example.com",
            "name": f"Buyer {self.number}",
            "shipping": {"method": "pickup", "store_id": STORE_ID},
            "payment": "pay_later",
        }
        key = {"Idempotency-Key": str(uuid.uuid4())}
        self.ordered = await self.request("POST", f"/api/v1/brands/{brand}/orders", body, key)


async def _at(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


class Buyers:
    """This process's buyers, for one sale at a time."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.buyers: list[Buyer] = []
        self.tally = Tally()  # what the room's viewers count (chat messages): nothing here

    async def sign_up(self, first: int, count: int) -> None:
        """Forget the last sale's buyers; sign up `count` new guests, numbered from `first`, spread over the app
        processes. Not timed: their connections are open and warm when the sale starts."""
        await self.stop()
        self.buyers = [Buyer(n, self.bases[n % len(self.bases)]) for n in range(first, first + count)]
        gate = asyncio.Semaphore(SIGNING_UP_AT_ONCE)

        async def one(buyer: Buyer) -> None:
            async with gate:
                await buyer.sign_up()

        await asyncio.gather(*(one(buyer) for buyer in self.buyers))

    async def flash(self, start: float, brand: str, variant_id: str, episode_id: str | None) -> None:
        """At `start` every buyer adds one unit during the live (held); those who got it check out at once."""

        async def one(buyer: Buyer) -> None:
            await _at(start)
            await buyer.add(brand, variant_id, episode_id)
            if buyer.added is not None and buyer.added.outcome == "ok":
                await buyer.check_out(brand)

        await asyncio.gather(*(one(buyer) for buyer in self.buyers))

    async def join(self, episode_id: str) -> None:
        """Every buyer joins the live room through its app process (untimed), a few at a time."""
        gate = asyncio.Semaphore(JOINING_AT_ONCE)

        async def one(buyer: Buyer) -> None:
            async with gate:
                await buyer.join(episode_id, self.tally)

        await asyncio.gather(*(one(buyer) for buyer in self.buyers))

    async def tap(self, start: float, brand: str, variant_id: str, episode_id: str) -> None:
        """The flash sale as the player taps: at `start` every buyer sends `cart:add` in the room (those
        who get the unit check out afterwards, on the parent's word: `check_out`)."""

        async def one(buyer: Buyer) -> None:
            await _at(start)
            await buyer.tap(variant_id, episode_id)

        await asyncio.gather(*(one(buyer) for buyer in self.buyers))

    async def add(self, start: float, brand: str, variant_id: str) -> None:
        """At `start` every buyer adds one unit, outside the live: checked now, taken at checkout."""

        async def one(buyer: Buyer) -> None:
            await _at(start)
            await buyer.add(brand, variant_id, None)

        await asyncio.gather(*(one(buyer) for buyer in self.buyers))

    async def check_out(self, start: float, brand: str) -> None:
        """At `start` every buyer with the unit in the cart checks out."""

        async def one(buyer: Buyer) -> None:
            await _at(start)
            await buyer.check_out(brand)

        await asyncio.gather(*(one(b) for b in self.buyers if b.added is not None and b.added.outcome == "ok"))

    async def report(self) -> dict[str, Any]:
        """Per request kind: [outcome, sent, answered] for each request made."""
        return {
            kind: [[a.outcome, a.sent, a.answered] for a in answers if a is not None]
            for kind, answers in (
                ("add", [b.added for b in self.buyers]),
                ("checkout", [b.ordered for b in self.buyers]),
            )
        }

    async def stop(self) -> None:
        for buyer in self.buyers:
            buyer.leave()
        await asyncio.gather(*(buyer.http.close() for buyer in self.buyers))
        self.buyers = []


def child_main(conn: Connection, bases: list[str], parent: int, lifetime: float) -> None:
    """A spawned load-client process: runs the parent's commands until `stop`."""
    child_process(parent, lifetime)
    asyncio.run(run_commands(conn, Buyers(bases)))
    os._exit(0)
