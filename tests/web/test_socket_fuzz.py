"""Property-based fuzzing of the live room's client events, through real Socket.IO clients.

Hypothesis makes the payloads: every client event with wrong types, missing and unknown fields,
huge numbers, deep nesting, unknown episodes, rooms not joined, several arguments or none, unknown
event names. Whatever it sends under the size limit, the sender gets an ack (`{ok: true, …}` or
`{ok: false, error}` with a 4xx and a reason) and stays connected, nothing is logged as a failure,
and the other clients of the room hear only room events that an accepted event explains.

Hypothesis runs in a worker thread and hands each example to the test's event loop, which keeps
serving the app between examples.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as run_with
from hypothesis import strategies as st

from shopcast.chat.text import REACTIONS
from shopcast.core.settings import Settings
from shopcast.web.sockets import _ROOM_EVENTS, CLIENT_EVENTS, MAX_PAYLOAD_BYTES, JoinRequest, RoomRequest
from tests.chat.conftest import Join, Room, join, room  # noqa: F401  (the live room's fixtures)
from tests.conftest import make_settings
from tests.fuzzing import examples
from tests.live_room import Viewer, send

EXAMPLES = examples(300)
ROOM_EVENTS = {  # what the room may tell everyone after an accepted client event (docs/api.md)
    "chat:message", "chat:deleted", "chat:answered", "chat:pinned", "chat:unpinned", "chat:slow-mode",
    "chat:viewer-removed", "chat:reactions", "presence:count", "sales:bought", "stock:changed", "poll:tally",
    "giveaway:entries",
}  # fmt: skip
POLL = {"question": "Which one?", "options": [{"label": "a"}, {"label": "b"}, {"label": "c"}], "multiple": True}
MODELS: dict[str, type[RoomRequest]] = {
    "join": JoinRequest,
    "leave": RoomRequest,
    **{name: model for name, (model, _) in _ROOM_EVENTS.items()},
}


@pytest.fixture
def settings(tmp_path: Any, backend: dict[str, Any]) -> Settings:
    # A generous allowance: the fuzzer sends far faster than a person, and 429s would hide the rest.
    return make_settings(tmp_path, **backend, chat_events_per_second=1000, chat_event_burst=10000)


class Failures(logging.Handler):
    """Errors logged anywhere while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def failures() -> AsyncIterator[Failures]:
    handler = Failures()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


# --- payloads ----------------------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn `weight` times in sum-of-weights."""
    ladder = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(ladder) - 1).flatmap(lambda index: ladder[index])


SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
CHARACTERS = weighted((9, st.characters()), (1, SURROGATES))  # a lone surrogate is valid JSON text
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CHARACTERS, max_size=20),
    st.sampled_from(["", " ", "\n\n\n", "\x00", "a" * 501, "https://evil.test/x"]),
)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.floats(),
    TEXT,
)
JSON = st.recursive(
    LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)


@dataclass(frozen=True)
class Deep:
    """A payload nested `depth` times, as JSON text: deeper than Python's own encoders (and
    Hypothesis's printer) go, as a browser's client can send it."""

    depth: int
    kind: str

    def json(self) -> str:
        opening, closing = ("[", "]") if self.kind == "list" else ('{"episode_id":', "}")
        return opening * self.depth + "{}" + closing * self.depth


DEEP = st.builds(Deep, st.integers(1, 5000), st.sampled_from(["list", "dict"]))


def good_values(name: str, live: Room, known: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a field of a client event takes when the client means well (some still refused)."""
    ids = st.uuids().map(str)
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "episode_id": st.one_of(st.just(live.episode_id), st.just(live.episode_id), ids),
        "last_seq": st.one_of(st.none(), st.integers(0, 30)),
        "message_id": st.one_of(st.just(known["message_id"]), ids),
        "reply_to": st.one_of(st.none(), st.just(known["message_id"]), ids),
        "variant_id": ids,
        "giveaway_id": st.one_of(st.just(known["giveaway_id"]), ids),
        "emoji": st.sampled_from(REACTIONS),
        "text": st.text(alphabet=CHARACTERS, min_size=1, max_size=80),
        "reason": st.text(alphabet=CHARACTERS, max_size=40),
        "question": st.booleans(),
        "minutes": st.integers(1, 1440),
        "seconds": st.integers(0, 300),
        "quantity": st.integers(1, 20),
        "poll_id": st.one_of(st.just(known["poll_id"]), st.just(known["poll_id"]), ids),
        "option_ids": st.lists(st.one_of(st.sampled_from(known["option_ids"]), ids), max_size=4),
    }
    return by_name.get(name, st.integers(0, 10))


def bad_values(name: str, live: Room) -> st.SearchStrategy[Any]:
    """Values a field of a client event should never take: wrong type, out of range, huge."""
    numbers = st.one_of(st.integers(-(2**80), -1), st.integers(1441, 2**80), st.floats(), st.just(2**64))
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "episode_id": st.sampled_from(
            ["nope", "", live.episode_id.upper(), live.episode_id + "0", str(uuid.UUID(int=0))]
        ),
        "text": st.sampled_from(["", " ", "\n\n\n", "\x00\u200b", "a" * 501, "https://evil.test/x"]),
    }
    return st.one_of(by_name.get(name, numbers), LEAF, JSON, DEEP)


def payloads(event: str, live: Room, known: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly the event's fields, right or with one of them wrong or missing; sometimes anything."""
    model = MODELS.get(event)
    fields = list(model.model_fields) if model is not None else ["episode_id"]
    good = st.fixed_dictionaries({name: good_values(name, live, known) for name in fields})

    def spoiled(data: dict[str, Any]) -> st.SearchStrategy[Any]:
        name = st.sampled_from([*fields, "extra"])
        changed = name.flatmap(lambda field: bad_values(field, live).map(lambda value: {**data, field: value}))
        missing = name.map(lambda field: {k: v for k, v in data.items() if k != field})
        return st.one_of(changed, changed, missing)

    anything = st.one_of(JSON, DEEP, st.binary(max_size=64))
    return weighted((4, good), (4, good.flatmap(spoiled)), (1, anything))


def sends(live: Room, known: dict[str, Any]) -> st.SearchStrategy[tuple[str, Any]]:
    """(event, arguments): no argument (None), one, or several (a tuple)."""
    unknown = st.text(min_size=1, max_size=20).filter(
        lambda name: name not in ("connect", "connect_error", "disconnect", "__disconnect_final")
    )
    names = weighted((9, st.sampled_from(CLIENT_EVENTS)), (1, unknown))

    def with_arguments(event: str) -> st.SearchStrategy[tuple[str, Any]]:
        one = payloads(event, live, known)
        arguments = weighted((8, one), (1, st.none()), (1, st.tuples(one, one)))
        return st.tuples(st.just(event), arguments)

    return names.flatmap(with_arguments)


def arguments_of(arguments: Any) -> list[Any]:
    return [] if arguments is None else list(arguments) if isinstance(arguments, tuple) else [arguments]


def to_json(value: Any) -> str:
    """JSON text for a payload, `Deep` parts included (bytes as text, for their size)."""
    if isinstance(value, Deep):
        return value.json()
    if isinstance(value, bytes):
        return json.dumps(value.decode("latin-1"))
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{to_json(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def has_deep(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return any(has_deep(item) for item in value)
    if isinstance(value, dict):
        return any(has_deep(item) for item in value.values())
    return isinstance(value, Deep)


def raw_packet(event: str, arguments: Any) -> str | None:
    """The Socket.IO event as JSON text when a part of it is `Deep` (sent as is), else None."""
    packet = [event, *arguments_of(arguments)]
    return to_json(packet) if has_deep(packet) else None


def size(event: str, arguments: Any) -> int:
    return len(to_json([event, *arguments_of(arguments)]))


async def call(sender: Viewer, event: str, arguments: Any) -> Any:
    """Send the event and wait for its ack."""
    raw = raw_packet(event, arguments)
    if raw is None:
        return await sender.sio.call(event, arguments, timeout=10)
    return await sender.call_raw(raw)


async def open_giveaway(client: Any, live: Room) -> str:
    """A giveaway taking entries in the room, for `giveaway:enter` to reach."""
    body = {"prize": {"title": "A scarf", "value": {"amount": 8900, "currency": "EUR"}}}
    made = await client.post(f"/api/v1/episodes/{live.episode_id}/giveaways", json=body, headers=live.manager.headers)
    assert made.status == 201, await made.text()
    giveaway_id = (await made.json())["id"]
    opened = await client.post(f"/api/v1/giveaways/{giveaway_id}/open", headers=live.host.headers)
    assert opened.status == 200, await opened.text()
    return giveaway_id


# --- the property -------------------------------------------------------------------------------


async def test_no_client_event_breaks_the_connection_or_reaches_anyone_else(
    join: Join,  # noqa: F811
    room: Room,  # noqa: F811
    client: Any,
    failures: Failures,
) -> None:
    bystander = await join("Bystander")  # writes the message that moderators may act on
    known: dict[str, Any] = {
        "message_id": (await send(bystander, room.episode_id, "a message to moderate"))["id"],
        "giveaway_id": await open_giveaway(client, room),
    }
    poll = await client.post(room.path("/polls"), json=POLL, headers=room.host.headers)
    known["poll_id"] = (await poll.json())["id"]
    assert (await client.post(f"/api/v1/polls/{known['poll_id']}/open", headers=room.host.headers)).status == 200
    known["option_ids"] = [o["id"] for o in (await poll.json())["options"]]
    witness = await join("Witness")
    senders = {"guest": await join("Lea"), "moderator": await join(room.moderator), "anonymous": Viewer()}
    await senders["anonymous"].connect(client, None)
    assert (await senders["anonymous"].call("join", {"episode_id": room.episode_id}))["ok"]
    accepted: set[str] = set()  # ids of messages sent with an ok ack
    answered: list[tuple[str, int]] = []  # (event, status) of each example sent
    loop = asyncio.get_running_loop()

    async def check(who: str, event: str, arguments: Any) -> None:
        sender = senders[who]
        heard = len(witness.log)
        ack = await call(sender, event, arguments)
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        answered.append((event if event in CLIENT_EVENTS else "?", 200 if ack["ok"] else ack["error"]["status"]))
        if ack["ok"]:
            if isinstance(ack.get("message"), dict):
                accepted.add(ack["message"]["id"])
        else:
            error = ack["error"]
            assert error["type"].startswith("urn:shopcast:problem:") and error["detail"], ack
            assert 400 <= error["status"] < 500, ack
        assert sender.sio.connected and witness.sio.connected
        assert not failures.records, [r.getMessage() for r in failures.records]
        await witness.settle()
        for name, data in witness.log[heard:]:
            assert name in ROOM_EVENTS and isinstance(data, dict) and isinstance(data.get("seq"), int), (name, data)
            if name == "chat:message":
                assert data["message"]["id"] in accepted, data
        if event == "leave" or (event == "join" and not ack["ok"]):
            await sender.call("join", {"episode_id": room.episode_id})  # back in the room for what follows

    @run_with(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(who=st.sampled_from(list(senders)), sent=sends(room, known))
    def property(who: str, sent: tuple[str, Any]) -> None:
        event, arguments = sent
        if size(event, arguments) > MAX_PAYLOAD_BYTES - 256:
            return  # over the limit: a refusal of the connection is the documented answer
        asyncio.run_coroutine_threadsafe(check(who, event, arguments), loop).result(timeout=60)

    try:
        await asyncio.to_thread(property)
        # The fuzzer got past the checks too: events were taken as well as refused, for several reasons.
        statuses = {status for _, status in answered}
        assert 200 in statuses and len(statuses) >= 5, sorted(set(answered))
    finally:
        await senders["anonymous"].sio.disconnect()
