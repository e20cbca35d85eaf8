"""What one request of the shop costs: app and PostgreSQL CPU time, one request at a time.

    .venv/bin/python -m tests.load.shop_costs [--requests 300]

Starts one `shopcast serve` on 127.0.0.1 on a PostgreSQL database of its own (dropped afterwards),
seeds a live show as the flash-sale benchmark does, then sends each kind of request `--requests`
times, one after the other, each by a new guest (as in a sale: a first add, a first checkout), and
prints per request the app's CPU time, PostgreSQL's (all its processes on the machine) and the time
to the answer. One at a time, nothing queues: this is the cost a sale multiplies. The last kinds
are the player's taps in the live room (`cart:add` over Socket.IO, each guest joined beforehand,
untimed), as the flash sale's `--via socket` sends them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.load.flash_shop import (
    BRAND,
    STORE_ID,
    App,
    Shop,
    postgres_database,
    product_on_sale,
    seed,
    services_cpu_seconds,
)
from tests.load.harness import machine, markdown_table
from tests.load.room_clients import Tally, Viewer
from tests.load.socketio_wire import event_packet

Request = tuple[str, str, Any, dict[str, str]]  # method, path, JSON body, headers


def _services_cpu() -> float:
    return sum(services_cpu_seconds().values())


async def measure(app: App, shop: Shop, count: int) -> list[list[str]]:
    base = app.bases[0]
    rows: list[list[str]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def guest() -> dict[str, str]:
            body = {"nickname": "b" + secrets.token_hex(3)}
            async with http.post(base + "/api/v1/auth/guest", json=body) as response:
                return {"Authorization": f"Bearer {(await response.json())['token']}"}

        buyers = [await guest() for _ in range(count)]
        _, gone = product_on_sale(app, shop, "gone", 0)
        _, plenty = product_on_sale(app, shop, "plenty", 1_000_000)
        cart = f"/api/v1/brands/{BRAND}/cart"
        order = {
            "email": "buyer@example.com",
            "name": "Buyer",
            "shipping": {"method": "pickup", "store_id": STORE_ID},
            "payment": "pay_later",
        }

        def checkout(i: int) -> Request:
            return "POST", f"/api/v1/brands/{BRAND}/orders", order, {**buyers[i], "Idempotency-Key": str(uuid.uuid4())}

        kinds: list[tuple[str, Callable[[int], Request]]] = [
            ("GET /healthz (one SELECT 1)", lambda i: ("GET", "/healthz", None, {})),
            ("first look at the cart", lambda i: ("GET", cart, None, buyers[i])),
            (
                "add from the pin, sold out",
                lambda i: ("POST", f"{cart}/items", {"variant_id": gone, "episode_id": shop.episode_id}, buyers[i]),
            ),
            (
                "add from the pin, held",
                lambda i: ("POST", f"{cart}/items", {"variant_id": plenty, "episode_id": shop.episode_id}, buyers[i]),
            ),
            ("checkout of the held unit", checkout),
            ("add outside the live", lambda i: ("POST", f"{cart}/items", {"variant_id": plenty}, buyers[i])),
            ("checkout taking the unit", checkout),
        ]
        for name, make in kinds:

            async def send(i: int, make: Callable[[int], Request] = make) -> int:
                method, path, body, headers = make(i)
                async with http.request(method, base + path, json=body, headers=headers) as response:
                    await response.read()
                    return response.status

            rows.append(await _one_kind(app, name, count, send))
        viewers = [await _viewer(base, headers, shop.episode_id) for headers in buyers]
        try:
            for name, variant_id in (("tap in the room, sold out", gone), ("tap in the room, held", plenty)):

                async def tap(i: int, variant_id: str = variant_id) -> int:
                    request = {"episode_id": shop.episode_id, "variant_id": variant_id}
                    ack = await _call(viewers[i], "cart:add", request, i + 1)
                    return 201 if ack["ok"] else int(ack["error"]["status"])

                rows.append(await _one_kind(app, name, count, tap))
        finally:
            for viewer in viewers:
                if viewer.transport is not None:
                    viewer.transport.abort()
    return rows


async def _one_kind(app: App, name: str, count: int, send: Callable[[int], Awaitable[int]]) -> list[str]:
    """The row of one kind of request: `send(i)` for each guest in turn, returning the answer's status."""
    answers: Counter[int] = Counter()
    app_before, services_before, started = app.cpu_seconds(), _services_cpu(), time.perf_counter()
    for i in range(count):
        answers[await send(i)] += 1
    wall = (time.perf_counter() - started) / count
    app_cpu = (app.cpu_seconds() - app_before) / count
    services_cpu = (_services_cpu() - services_before) / count
    statuses = ", ".join(f"{n} x {status}" for status, n in sorted(answers.items()))
    return [name, f"{app_cpu * 1000:.2f}", f"{services_cpu * 1000:.2f}", f"{wall * 1000:.2f}", statuses]


async def _viewer(base: str, headers: dict[str, str], episode_id: str) -> Viewer:
    """A guest in the live room, as the player joins it (untimed); it reads all the room sends it."""
    port = int(base.rsplit(":", 1)[1])
    token = headers["Authorization"].removeprefix("Bearer ")
    loop = asyncio.get_running_loop()
    _, viewer = await loop.create_connection(lambda: Viewer(port, episode_id, Tally(), token), "127.0.0.1", port)
    async with asyncio.timeout(60):
        await viewer.joined
    return viewer


async def _call(viewer: Viewer, event: str, data: Any, ack_id: int) -> Any:
    """Send a room event and wait for its ack."""
    acked: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    viewer.acks[ack_id] = acked.set_result
    viewer.send(event_packet(event, data, ack_id))
    async with asyncio.timeout(60):
        payload = await acked
    return orjson.loads(payload[payload.index(b"[") :])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind (default 300)")
    options = parser.parse_args()
    count = max(10, min(options.requests, 5000))
    print(f"Shop request costs on 127.0.0.1: {machine('aiohttp', 'sqlalchemy', 'asyncpg')}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="shop-costs-") as folder:
        with postgres_database(f"shopcast_costs_{os.getpid()}") as url:
            env = {
                **os.environ,
                "SHOPCAST_DATABASE_URL": url.replace("postgresql://", "postgresql+asyncpg://"),
                "SHOPCAST_DATA_DIR": folder,
                "SHOPCAST_SECRET_KEY": secrets.token_urlsafe(32),
                "SHOPCAST_GUEST_MAX_PER_WINDOW": str(count * 2),
            }
            env.pop("SHOPCAST_REDIS_URL", None)
            app = App(env, Path(folder))
            try:
                app.start(1)
                rows = asyncio.run(measure(app, seed(app), count))
            finally:
                app.end()
    header = ["request", "app CPU, ms", "PostgreSQL CPU, ms", "answered in, ms", "answers"]
    print(markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
