"""The live room over Socket.IO, with real python-socketio clients against the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from shopcast.core.security import Role
from tests.factories import Factory
from tests.live_room import Viewer


@pytest.fixture
async def viewers() -> AsyncIterator[list[Viewer]]:
    made: list[Viewer] = []
    yield made
    for viewer in made:
        await viewer.sio.disconnect()


@pytest.fixture
async def episode(factory: Factory) -> dict[str, Any]:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    return {"id": (await factory.episodes(show["id"], manager))[0]["id"], "manager": manager}


async def guest_token(factory: Factory, nickname: str = "Lea") -> str:
    return (await factory.guest(nickname))["Authorization"].removeprefix("Bearer ")


async def test_a_viewer_joins_gets_a_snapshot_then_hears_the_show_go_live(
    client, factory: Factory, episode, viewers
) -> None:
    viewer = Viewer()
    viewers.append(viewer)
    await viewer.connect(client, await guest_token(factory))
    ack = await viewer.call("join", {"episode_id": episode["id"]})
    assert ack["ok"] and ack["seq"] == 0
    assert ack["snapshot"]["episode"]["status"] == "scheduled"
    manager = episode["manager"]
    await client.post(f"/api/v1/episodes/{episode['id']}/start", headers=manager.headers)
    data = await viewer.wait_for("episode:live")
    assert data["status"] == "live" and data["seq"] == 1 and data["episode_id"] == episode["id"]


async def test_a_viewer_coming_back_gets_exactly_what_it_missed(client, factory: Factory, episode, viewers) -> None:
    token = await guest_token(factory)
    first = Viewer()
    viewers.append(first)
    await first.connect(client, token)
    assert (await first.call("join", {"episode_id": episode["id"]}))["seq"] == 0
    await first.sio.disconnect()  # the phone goes through a tunnel
    manager = episode["manager"]
    await client.post(f"/api/v1/episodes/{episode['id']}/start", headers=manager.headers)
    await client.post(f"/api/v1/episodes/{episode['id']}/end", headers=manager.headers)
    again = Viewer()
    viewers.append(again)
    await again.connect(client, token)
    ack = await again.call("join", {"episode_id": episode["id"], "last_seq": 0})
    assert ack["ok"] and ack["seq"] == 2
    assert [(e["event"], e["seq"]) for e in ack["missed"]] == [("episode:live", 1), ("episode:ended", 2)]
    up_to_date = await again.call("join", {"episode_id": episode["id"], "last_seq": 2})
    assert up_to_date["missed"] == []


async def test_a_bad_token_cannot_connect(client) -> None:
    viewer = Viewer()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await viewer.connect(client, "not-a-token")
    assert "token" in viewer.refusal["message"], viewer.refusal


async def test_without_a_token_a_viewer_reads_the_chat_and_counts_but_cannot_write(
    client, factory: Factory, episode, viewers
) -> None:
    reader, writer = Viewer(), Viewer()
    viewers.extend([reader, writer])
    await reader.connect(client, None)
    await writer.connect(client, await guest_token(factory))
    joined = await reader.call("join", {"episode_id": episode["id"]})
    assert joined["ok"] and joined["snapshot"]["you"]["role"] == "viewer"
    await writer.call("join", {"episode_id": episode["id"]})
    sent = await writer.call("chat:send", {"episode_id": episode["id"], "text": "hello"})
    assert (await reader.wait_for("chat:message"))["message"] == sent["message"]
    await writer.wait_for("presence:count", viewers=2)
    refused = await reader.call("chat:send", {"episode_id": episode["id"], "text": "me too"})
    assert refused["error"]["status"] == 401 and "nickname" in refused["error"]["detail"]
    assert (await reader.call("chat:react", {"episode_id": episode["id"], "emoji": "🔥"}))["ok"]


async def test_other_origins_cannot_connect(client, factory: Factory) -> None:
    viewer = Viewer()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await viewer.connect(client, await guest_token(factory), headers={"Origin": "https://evil.test"})


async def test_bad_events_get_a_reason_and_break_nothing(client, factory: Factory, episode, viewers) -> None:
    viewer = Viewer()
    viewers.append(viewer)
    await viewer.connect(client, await guest_token(factory))
    cases = [
        ({"episode_id": "6f1c3a8e-0000-4000-8000-000000000000"}, 404, "no episode"),
        ({"episode_id": "nope"}, 422, "episode_id"),
        ({"episode_id": episode["id"], "last_seq": -1}, 422, "last_seq"),
        ("just a string", 422, "dictionary"),
    ]
    for data, status, reason in cases:
        ack = await viewer.call("join", data)
        assert ack["ok"] is False and ack["error"]["status"] == status, ack
        assert reason in ack["error"]["detail"]
    unknown = await viewer.call("fly", {"x": 1})
    assert unknown["ok"] is False and unknown["error"]["status"] == 400, unknown
    assert unknown["error"]["detail"] == "unknown event 'fly'", unknown
    # Socket.IO lets a client send several arguments, or none: each still gets an ack with a reason.
    several = await viewer.call("join", ({"episode_id": episode["id"]}, 7))
    assert several["error"]["status"] == 422 and "not 2 arguments" in several["error"]["detail"], several
    assert (await viewer.call("fly", (1, 2)))["error"]["status"] == 400
    nothing = await viewer.sio.call("join", timeout=10)
    assert nothing["error"]["status"] == 422 and "dictionary" in nothing["error"]["detail"], nothing
    # JSON nested deeper than Python's decoder follows (a browser's can send it, in 70 KB or less).
    deep = '["join",' + '{"episode_id":' * 4000 + "{}" + "}" * 4000 + "]"
    too_deep = await viewer.call_raw(deep)
    assert too_deep["error"] == {**too_deep["error"], "status": 422, "detail": "the data is nested too deeply"}
    assert (await viewer.call("join", {"episode_id": episode["id"]}))["ok"]  # still fine


async def test_the_room_s_refusals_are_in_the_page_s_language(client, factory: Factory, episode, viewers) -> None:
    refused = Viewer()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(client, "not-a-token", lang="fr")
    assert refused.refusal["message"] == "ce jeton n\N{RIGHT SINGLE QUOTATION MARK}est pas valide", refused.refusal
    french, by_address, english = Viewer(), Viewer(), Viewer()
    viewers.extend((french, by_address, english))
    await french.connect(client, await guest_token(factory), lang="fr")  # as the pages do
    await by_address.connect(str(client.make_url("/?lang=fr")), await guest_token(factory, "Max"))
    await english.connect(client, await guest_token(factory, "Zoe"), headers={"Accept-Language": "de, en;q=0.5"})
    for viewer in (french, by_address):
        unknown = await viewer.call("fly", {"x": 1})
        assert unknown["error"]["detail"] == "événement inconnu «\N{NO-BREAK SPACE}fly\N{NO-BREAK SPACE}»", unknown
        assert unknown["error"]["title"] == "La requête n\N{RIGHT SINGLE QUOTATION MARK}a pas pu être lue"
        assert unknown["error"]["type"] == "urn:shopcast:problem:bad-request"
    invalid = await french.call("join", {"episode_id": episode["id"], "last_seq": -1})
    assert invalid["error"]["detail"] == "last_seq\N{NO-BREAK SPACE}: doit être supérieur ou égal à 0", invalid
    assert invalid["error"]["errors"] == [{"field": "last_seq", "reason": "doit être supérieur ou égal à 0"}]
    assert (await english.call("fly", {}))["error"]["detail"] == "unknown event 'fly'"
