"""Big-room delivery: room events reach every client of the room, in order, on every transport.

Real python-socketio clients over WebSocket, polling, and polling upgraded to WebSocket, plus a
hand-written one that stops reading; room events published on the app's own bus.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio

from shopcast.core import tasks
from shopcast.web.context import RESOURCES
from shopcast.web.sockets import LIVE_ROOMS
from tests.factories import Factory
from tests.load.socketio_wire import BROWSER_OFFER, RawViewer

STATE_EVENTS = ("presence:count", "chat:reactions")


class Listener:
    """A python-socketio client in one episode's room that keeps every room event it hears, in order."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.heard: list[tuple[str, Any]] = []
        self.ack: dict[str, Any] = {}  # the join's
        self._changed = asyncio.Event()

        @self.sio.on("*")
        async def anything(event: str, data: Any) -> None:
            self.heard.append((event, data))
            self._changed.set()

    def events(self) -> list[tuple[str, Any]]:
        """What the room sent, without the passing state the app sends by itself."""
        return [(event, data) for event, data in self.heard if event not in STATE_EVENTS]

    async def until(self, done: Callable[[Listener], bool]) -> None:
        async with asyncio.timeout(30):
            while not done(self):
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def join(client, factory: Factory, episode) -> AsyncIterator[Callable[..., Any]]:
    """Connect a listener over the given transports and join the episode's room."""
    made: list[Listener] = []

    async def joined(transports: list[str], **request: Any) -> Listener:
        listener = Listener()
        made.append(listener)
        token = (await factory.guest(f"Viewer {len(made)}"))["Authorization"].removeprefix("Bearer ")
        await listener.sio.connect(
            str(client.make_url("/")), auth={"token": token}, transports=transports, wait_timeout=10
        )
        listener.ack = await listener.sio.call("join", {"episode_id": episode["id"], **request}, timeout=10)
        assert listener.ack["ok"], listener.ack
        return listener

    yield joined
    for listener in made:
        # Not waiting for a polling client's last long poll: the server ends it when it stops.
        await listener.sio.eio.disconnect(abort=True)


def room(episode: dict[str, Any]) -> str:
    return f"episode:{episode['id']}"


def numbers(listener: Listener) -> list[int]:
    return [data["n"] for _, data in listener.events()]


def seqs(listener: Listener) -> list[int]:
    return [data["seq"] for _, data in listener.events()]


async def test_every_transport_gets_every_event_in_seq_order(client, episode, join) -> None:
    listeners = [await join(["websocket"]), await join(["polling"]), await join(["polling", "websocket"])]
    bus = client.app[RESOURCES].bus
    for n in range(60):
        await bus.publish(room(episode), "pin:shown" if n % 10 == 9 else "chat:message", {"n": n})
        if n % 6 == 0:
            await asyncio.sleep(0.03)  # spread over several ticks
    for listener in listeners:
        await listener.until(lambda heard: len(heard.events()) >= 60)
        assert numbers(listener) == list(range(60))
        assert seqs(listener) == list(range(1, 61))
    assert listeners[2].sio.transport() == "websocket"


async def test_a_burst_is_sent_in_a_few_writes_and_arrives_whole(client, episode, join) -> None:
    listeners = [await join(["websocket"]), await join(["websocket"])]
    counts = client.app[LIVE_ROOMS].sockets.counts
    before = counts.written + counts.queued
    for n in range(200):
        await client.app[RESOURCES].bus.publish(room(episode), "chat:message", {"n": n})
    for listener in listeners:
        await listener.until(lambda heard: len(heard.events()) >= 200)
        assert numbers(listener) == list(range(200))
    assert counts.written + counts.queued - before <= 2 * 20  # not one write per event and viewer


async def test_what_changes_the_screen_now_does_not_wait_for_the_tick(client, episode, join) -> None:
    client.app[LIVE_ROOMS].tick_seconds = 3600  # chat alone would wait an hour
    listener = await join(["websocket"])
    sent = []
    for urgent in ("pin:shown", "stock:changed", "giveaway:opened", "episode:ended"):
        for event in ("chat:message", urgent):
            sent.append(event)
            await client.app[RESOURCES].bus.publish(room(episode), event, {"n": len(sent) - 1})
    await listener.until(lambda heard: len(heard.events()) >= len(sent))
    assert [event for event, _ in listener.events()] == sent
    assert seqs(listener) == list(range(1, len(sent) + 1))


@pytest.mark.parametrize("last_seq", [7, None], ids=["missed", "snapshot"])
async def test_what_a_join_ack_holds_never_arrives_again_as_a_live_event(
    client, episode, join, last_seq: int | None
) -> None:
    client.app[LIVE_ROOMS].tick_seconds = 3600  # the chat waits for the next urgent event
    bus = client.app[RESOURCES].bus
    watching = await join(["websocket"])
    for n in range(1, 14):  # 1..7 sent out by the pin, 8..13 waiting when the viewer comes back
        await bus.publish(room(episode), "pin:shown" if n == 7 else "chat:message", {"n": n})
    await watching.until(lambda heard: len(heard.events()) >= 7)
    back = await join(["websocket"], **({} if last_seq is None else {"last_seq": last_seq}))
    assert back.ack["seq"] == 13
    if last_seq is not None:
        assert [e["seq"] for e in back.ack["missed"]] == list(range(8, 14))
    await bus.publish(room(episode), "pin:shown", {"n": 14})  # sends everything waiting
    await watching.until(lambda heard: len(heard.events()) >= 14)
    await back.until(lambda heard: any(data["n"] == 14 for _, data in heard.events()))
    await back.sio.call("ping", {}, timeout=10)  # anything still on its way is in by now
    assert seqs(watching) == list(range(1, 15))
    assert seqs(back) == [14]


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_viewer_coming_back_to_a_busy_room_gets_each_event_once_in_order(
    client, factory, episode, transport: str
) -> None:
    bus = client.app[RESOURCES].bus
    token = (await factory.guest("Lea"))["Authorization"].removeprefix("Bearer ")
    await join_and_listen(client, token, episode, {}, 0.05, transport)  # the room is followed before it gets busy

    async def busy_room() -> None:
        for n in itertools.count(1):
            await bus.publish(room(episode), "pin:shown" if n % 9 == 0 else "chat:message", {"n": n})
            await asyncio.sleep(0.003)

    publisher = asyncio.create_task(busy_room())
    try:
        last_seq = None
        caught_up = heard_live = 0
        for visit in range(10):
            request = {} if last_seq is None or visit % 4 == 3 else {"last_seq": last_seq}
            heard = await join_and_listen(client, token, episode, request, 0.15, transport)
            kind, ack = heard[0]
            assert kind == "ack" and ack["ok"], heard[:2]  # nothing of the room before the ack
            if "missed" in ack:
                assert [e["seq"] for e in ack["missed"]] == list(range(last_seq + 1, ack["seq"] + 1))
                caught_up += len(ack["missed"])
            live = [data["seq"] for event, data in heard[1:] if event not in STATE_EVENTS]
            assert live == list(range(ack["seq"] + 1, ack["seq"] + 1 + len(live))), (ack["seq"], live)
            last_seq = live[-1] if live else ack["seq"]
            heard_live += len(live)
        assert caught_up and heard_live
    finally:
        await tasks.stop(publisher)  # one cancel is not always enough (shopcast/core/tasks.py)


async def join_and_listen(
    client, token: str, episode: dict[str, Any], request: dict[str, Any], seconds: float, transport: str
) -> list[tuple[str, Any]]:
    """Connect, join with `request` and listen for `seconds`: the ack and the events, as they came."""
    heard: list[tuple[str, Any]] = []
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("*", lambda event, data: heard.append((event, data)))
    acked = asyncio.Event()

    def on_ack(ack: Any) -> None:
        heard.append(("ack", ack))
        acked.set()

    await sio.connect(str(client.make_url("/")), auth={"token": token}, transports=[transport], wait_timeout=10)
    try:
        await sio.emit("join", {"episode_id": episode["id"], **request}, callback=on_ack)
        async with asyncio.timeout(10):
            await acked.wait()
        await asyncio.sleep(seconds)  # live events come as they are published
    finally:
        await sio.eio.disconnect(abort=True)  # not waiting for a polling client's last long poll
    return heard


async def test_websockets_are_not_compressed_even_when_the_client_offers(client, factory, episode) -> None:
    url = client.make_url("/")
    viewer = await RawViewer.open(url.host, url.port, extensions=BROWSER_OFFER)
    try:
        assert "sec-websocket-extensions" not in viewer.headers
        token = (await factory.guest("Raw"))["Authorization"].removeprefix("Bearer ")
        await viewer.connect(token)
        ack = await viewer.call("join", {"episode_id": episode["id"]})
        assert ack["ok"] and ack["seq"] == 0
    finally:
        viewer.close()


async def test_a_viewer_who_stops_reading_is_cut_off_and_the_others_get_everything(
    client, factory, episode, join, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shopcast.web.fanout")
    readers = [await join(["websocket"]), await join(["polling"])]
    url = client.make_url("/")
    stuck = await RawViewer.open(url.host, url.port, receive_buffer=4096)
    token = (await factory.guest("Stuck"))["Authorization"].removeprefix("Bearer ")
    await stuck.connect(token)
    assert (await stuck.call("join", {"episode_id": episode["id"]}))["ok"]
    # From here on the stuck viewer reads nothing; rounds of 512 KB until the server gives up on it.
    text = "x" * 32 * 1024
    sent = 0
    for _ in range(40):
        for _ in range(16):
            await client.app[RESOURCES].bus.publish(room(episode), "chat:message", {"n": sent, "text": text})
            sent += 1
        for reader in readers:
            await reader.until(lambda heard, sent=sent: len(heard.events()) >= sent)
        if "fell behind" in caplog.text:
            break
    assert "fell behind" in caplog.text
    with pytest.raises(ConnectionError):  # what the kernel still held, then the end of the connection
        async with asyncio.timeout(30):
            while True:
                await stuck.receive()
    for reader in readers:
        assert numbers(reader) == list(range(sent))


async def test_passing_state_carries_the_rooms_latest_seq(client, episode, join) -> None:
    bus = client.app[RESOURCES].bus
    await bus.publish(room(episode), "chat:message", {"n": 0})
    await bus.publish(room(episode), "chat:message", {"n": 1})
    listener = await join(["websocket"])  # follows a room that already has events
    await bus.signal(room(episode), "chat:reactions", {"counts": {"🔥": 3}})
    await bus.publish(room(episode), "chat:message", {"n": 2})
    await bus.signal(room(episode), "chat:reactions", {"counts": {"👏": 1}})

    def state(heard: Listener) -> list[tuple[str, Any]]:
        return [(e, d) for e, d in heard.heard if e == "chat:reactions" or d.get("viewers") == 99]

    await listener.until(lambda heard: len(state(heard)) >= 2)
    await client.app[LIVE_ROOMS].emit_state(room(episode), "presence:count", {"viewers": 99})
    await listener.until(lambda heard: len(state(heard)) >= 3)
    assert state(listener) == [
        ("chat:reactions", {"counts": {"🔥": 3}, "seq": 2}),
        ("chat:reactions", {"counts": {"👏": 1}, "seq": 3}),
        ("presence:count", {"viewers": 99, "seq": 3}),
    ]


async def test_a_room_left_empty_is_let_go_and_followed_again_on_the_next_join(client, episode, join) -> None:
    rooms = client.app[LIVE_ROOMS]
    rooms.unfollow_after_seconds = 0.3
    first = await join(["websocket"])
    await client.app[RESOURCES].bus.publish(room(episode), "chat:message", {"n": 0})
    await first.until(lambda heard: len(heard.events()) >= 1)
    await first.sio.disconnect()
    async with asyncio.timeout(30):
        while room(episode) in rooms.rooms():  # noqa: ASYNC110 (the rooms tell nobody when they let go)
            await asyncio.sleep(0.05)
    again = await join(["websocket"])
    await client.app[RESOURCES].bus.publish(room(episode), "chat:message", {"n": 1})
    await again.until(lambda heard: len(heard.events()) >= 1)
    assert again.events() == [("chat:message", {"n": 1, "seq": 2})]
