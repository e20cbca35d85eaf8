"""A brand's shop on 127.0.0.1 that takes webhook deliveries: it answers each request as the test tells
it (a status, or no answer at all) and keeps every request it got, to be verified with the
`standardwebhooks` library as a shop would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web
from standardwebhooks import Webhook

HANG = "hang"  # no answer until the receiver is told to let go (or stops)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    answered: int | None = None  # the status it got; None while it hangs (or if it never got one)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    def verify(self, secret: str) -> Any:
        """The body, once `secret` verified the signature as a shop would (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # The answers still to give on each path, in order; then 200.
    script: dict[str, list[int | str]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _let_go: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{path}", self._take)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._let_go.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str = "shop") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def answer(self, path: str, *answers: int | str) -> None:
        """Answer the next requests on `path` so: a status, or HANG."""
        self.script.setdefault(path, []).extend(answers)

    def let_go(self) -> None:
        """Requests left hanging are answered now (200)."""
        self._let_go.set()

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def accepted(self, path: str) -> list[Received]:
        """The requests on `path` answered with a 2xx."""
        return [r for r in self.on(path) if r.answered is not None and 200 <= r.answered < 300]

    async def wait(self, check: Callable[[], Any], within: float = 15) -> Any:
        deadline = time.monotonic() + within
        while not (found := check()):
            assert time.monotonic() < deadline, f"the receiver did not get it in time: {self.received}"
            await asyncio.sleep(0.02)
        return found

    async def _take(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        got = Received(path, dict(request.headers), await request.read(), time.monotonic())
        self.received.append(got)
        planned = self.script.get(path, [])
        answer = planned.pop(0) if planned else 200
        if answer == HANG:
            await self._let_go.wait()
            answer = 200
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=200)  # the sender gave up waiting: it will never read this
        got.answered = int(answer)
        return web.Response(status=got.answered, text=f"answered {answer} to {got.id}")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A shop on 127.0.0.1 taking webhook deliveries."""
    taker = Receiver()
    await taker.start()
    yield taker
    await taker.stop()
