"""Joins share the room's snapshot, as in production during a rush: what is a viewer's own (a ban, a
time-out, messages only they see) still comes from the moment of their join, and the events the
room sent after the shared snapshot reach them right after their ack, once each."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from shopcast.web.sockets import SNAPSHOTS
from tests.chat.conftest import Join, Room
from tests.conftest import make_settings
from tests.live_room import STATE_EVENTS, Viewer, send

SHARED_SECONDS = 10.0  # long enough for every join of a test to share the first one's snapshot


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, **backend, join_snapshot_seconds=SHARED_SECONDS)


def snapshot_reads(client: Any) -> int:
    return int(client.app[SNAPSHOTS].reads)


async def chat_shown(viewer: Viewer, ack: dict[str, Any], count: int) -> list[str]:
    """The texts the viewer's chat shows once it shows `count` of them: its snapshot's, then the
    messages sent after it (those the room sent before the viewer came in follow the ack at once,
    those still waiting for the room's tick come with it)."""

    def shown() -> list[str]:
        after = [data["message"]["text"] for data in viewer.events("chat:message") if data["seq"] > ack["seq"]]
        return [m["text"] for m in ack["snapshot"]["chat"]] + after

    while len(shown()) < count:
        await viewer.next()  # whatever the viewer hears next (10 s at most)
    await viewer.settle()
    return shown()


async def refused_join(viewer: Viewer, episode_id: str) -> dict[str, Any]:
    ack = await viewer.call("join", {"episode_id": episode_id})
    assert ack["ok"] is False, ack
    return dict(ack["error"])


async def test_a_ban_issued_between_two_joins_sharing_a_snapshot_is_honoured(
    join: Join, room: Room, client: Any
) -> None:
    lea = await join("Lea")
    message = await send(lea, room.episode_id, "buy my stuff instead")
    moderator = await join(room.moderator)
    reads = snapshot_reads(client)
    banning = {"episode_id": room.episode_id, "message_id": message["id"], "reason": "selling elsewhere"}
    assert (await moderator.call("chat:ban", banning))["ok"]
    second_tab = Viewer()
    await second_tab.connect(client, lea.token)
    try:
        error = await refused_join(second_tab, room.episode_id)
        assert error["status"] == 403
        assert error["detail"] == "you are banned from this brand's chats: selling elsewhere"
        tom = await join("Tom")
        after = await send(tom, room.episode_id, "glad that's over")
        await tom.wait_for("chat:message", message=after)
        await second_tab.settle()
        assert second_tab.events("chat:message") == []  # refused: nothing of the room reached it
        assert snapshot_reads(client) == reads  # Tom's join shared the snapshot read before the ban
    finally:
        await second_tab.sio.disconnect()


async def test_a_time_out_and_hidden_messages_are_each_viewers_own_in_a_shared_snapshot(
    join: Join, room: Room, client: Any
) -> None:
    lea, zoe, moderator = await join("Lea"), await join("Zoe"), await join(room.moderator)
    spam = await send(lea, room.episode_id, "spam spam")
    first = await send(zoe, room.episode_id, "first")
    reads = snapshot_reads(client)
    timing_out = {"episode_id": room.episode_id, "message_id": spam["id"], "minutes": 5}
    assert (await moderator.call("chat:timeout", timing_out))["ok"]
    assert (await moderator.call("chat:shadow-ban", {"episode_id": room.episode_id, "message_id": first["id"]}))["ok"]
    await send(zoe, room.episode_id, "nobody hears me")
    await send(zoe, room.episode_id, "does anyone see this?", question=True)

    lea_again, zoe_again, tom = await join(token=lea.token), await join(token=zoe.token), await join("Tom")
    assert lea_again.ack["snapshot"]["you"]["timed_out_until"] is not None
    assert tom.ack["snapshot"]["you"]["timed_out_until"] is None
    everyone = ["spam spam", "first"]
    hidden = ["nobody hears me", "does anyone see this?"]
    assert sorted(await chat_shown(zoe_again, zoe_again.ack, 4)) == sorted(everyone + hidden)
    assert [m["text"] for m in zoe_again.ack["snapshot"]["questions"]] == ["does anyone see this?"]
    assert await chat_shown(tom, tom.ack, 2) == everyone
    assert tom.ack["snapshot"]["questions"] == []
    assert snapshot_reads(client) == reads


async def test_the_events_after_a_shared_snapshot_reach_a_joining_viewer_once_and_in_order(
    join: Join, room: Room, client: Any
) -> None:
    host, lea = await join(room.host), await join("Lea")
    reads = snapshot_reads(client)
    sent = [await send(host, room.episode_id, f"after the snapshot {n}") for n in range(3)]
    assert (await host.call("chat:pin", {"episode_id": room.episode_id, "message_id": sent[1]["id"]}))["ok"]
    await lea.wait_for("chat:pinned")  # the room has sent all of it

    tom = await join("Tom")
    await tom.wait_for("chat:pinned")
    later = await send(host, room.episode_id, "once Tom is in")
    await tom.wait_for("chat:message", message=later)
    ack = tom.ack
    logged = [(event, data) for event, data in tom.log if event not in STATE_EVENTS]
    # What Tom's page shows: the snapshot, then each event after its seq, with no gap and no repeat.
    seqs = [data["seq"] for _, data in logged]
    assert seqs == list(range(ack["seq"] + 1, ack["seq"] + 1 + len(seqs)))
    shown = [m["id"] for m in ack["snapshot"]["chat"]] + [d["message"]["id"] for e, d in logged if e == "chat:message"]
    assert shown == [m["id"] for m in [*sent, later]]
    pinned = ack["snapshot"]["pinned"] or next(d["message"] for e, d in logged if e == "chat:pinned")
    assert pinned["id"] == sent[1]["id"]
    assert snapshot_reads(client) == reads


async def test_viewers_arriving_together_are_answered_together(join: Join, room: Room, client: Any) -> None:
    host = await join(room.host)
    await send(host, room.episode_id, "welcome everyone")
    reads = snapshot_reads(client)
    anonymous = [Viewer() for _ in range(12)]
    try:
        await asyncio.gather(*(viewer.connect(client, None) for viewer in anonymous))
        acks = await asyncio.gather(
            *(viewer.call("join", {"episode_id": room.episode_id}) for viewer in anonymous),
            *(join(f"Guest {n}") for n in range(4)),
        )
        joined = list(zip(anonymous, acks[:12], strict=True)) + [(guest, guest.ack) for guest in acks[12:]]
        for viewer, ack in joined:
            assert await chat_shown(viewer, ack, 1) == ["welcome everyone"]
        assert len({ack["snapshot"]["you"]["ref"] for _, ack in joined}) == 16  # each told who they are
        assert snapshot_reads(client) == reads
        await host.wait_for("presence:count", viewers=16)
    finally:
        for viewer in anonymous:
            await viewer.sio.disconnect()
