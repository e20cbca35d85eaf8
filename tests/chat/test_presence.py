"""Who is in the room: the live viewer count and the watch time kept for reports."""

from __future__ import annotations

from typing import Any

from tests.chat.conftest import Join, Room
from tests.conftest import SettableClock
from tests.live_room import Viewer


async def test_the_viewer_count_follows_joins_and_leaves(join: Join, room: Room) -> None:
    lea = await join("Lea")
    await join("Tom")
    count = await lea.wait_for("presence:count", viewers=2)
    assert count["seq"] >= lea.ack["seq"]
    zoe = await join("Zoe")
    assert zoe.ack["snapshot"]["viewers"] >= 2
    await lea.wait_for("presence:count", viewers=3)
    await zoe.sio.disconnect()
    await lea.wait_for("presence:count", viewers=2)


async def test_watch_time_counts_from_join_to_leave(join: Join, room: Room, client: Any, clock: SettableClock) -> None:
    lea = await join("Lea")
    tom = await join("Tom")
    clock.advance(minutes=3)
    assert (await lea.call("leave", {"episode_id": room.episode_id}))["ok"]
    clock.advance(minutes=2)
    await tom.sio.disconnect()
    await join("Lea again")  # joins now: no time yet
    response = await client.get(room.path("/audience"), headers=room.manager.headers)
    assert response.status == 200
    audience = await response.json()
    assert audience["unique_viewers"] == 3
    assert audience["watch_seconds"] == 3 * 60 + 5 * 60
    assert audience["average_watch_seconds"] == (3 * 60 + 5 * 60) // 3
    assert audience["viewers_now"] >= 1
    as_guest = await client.get(room.path("/audience"), headers={"Authorization": f"Bearer {lea.token}"})
    assert as_guest.status == 403
    assert (await as_guest.json())["detail"] == "guests cannot do this: sign in with a staff account"


async def test_the_count_is_distinct_viewers_without_the_brands_staff(join: Join, room: Room, client: Any) -> None:
    # The player, the studio and /audience show one figure: the host and moderator are not
    # viewers, a viewer with two tabs is one, a connection without a token is one.
    host = await join(room.host)
    await join(room.moderator)
    lea = await join("Lea")
    second_tab, anonymous = Viewer(), Viewer()
    try:
        await second_tab.connect(client, lea.token)
        await anonymous.connect(client, None)
        for viewer in (second_tab, anonymous):
            assert (await viewer.call("join", {"episode_id": room.episode_id}))["ok"]
        await join("Tom")
        await host.wait_for("presence:count", viewers=3)
        response = await client.get(room.path("/audience"), headers=room.manager.headers)
        assert (await response.json())["viewers_now"] == 3
        zoe = await join("Zoe")
        assert zoe.ack["snapshot"]["viewers"] == 4
        await host.wait_for("presence:count", viewers=4)
        await second_tab.sio.disconnect()  # Lea still watches in her first tab
        await anonymous.sio.disconnect()
        await host.wait_for("presence:count", viewers=3)
    finally:
        await second_tab.sio.disconnect()
        await anonymous.sio.disconnect()
    assert [e["viewers"] for e in host.events("presence:count")][-1] == 3
