"""Who can win: each eligibility rule of a giveaway, checked at the draw."""

from __future__ import annotations

import uuid
from typing import Any

from tests.contests.conftest import Giveaways, Join, Room, Shop, bearer
from tests.live_room import Viewer, send
from tests.problems import refused

NOBODY_PRESENT = {"present_at_draw": False}


async def drawn_from(giveaways: Giveaways, giveaway: dict[str, Any]) -> list[str]:
    """Close, draw, and the eligible entry ids the proof lists."""
    await giveaways.done(giveaway, "close")
    await giveaways.done(giveaway, "draw")
    return (await giveaways.proof(giveaway))["rounds"][0]["eligible_entry_ids"]


async def test_only_entrants_still_in_the_room_at_the_draw_can_win(
    giveaways: Giveaways, join: Join, room: Room
) -> None:
    lea, tom = await join("Lea"), await join("Tom")
    giveaway = await giveaways.opened(winners=2)
    lea_entry, tom_entry = await giveaways.enter(lea, giveaway), await giveaways.enter(tom, giveaway)
    assert (await lea.call("leave", {"episode_id": room.episode_id}))["ok"]
    assert await drawn_from(giveaways, giveaway) == [tom_entry]
    assert lea_entry not in str(await giveaways.staff_view(giveaway))


async def test_a_second_tab_keeps_a_viewer_present(giveaways: Giveaways, join: Join, room: Room, client: Any) -> None:
    lea = await join("Lea")
    giveaway = await giveaways.opened()
    entry = await giveaways.enter(lea, giveaway)
    other_tab = Viewer()
    await other_tab.connect(client, lea.token)
    assert (await other_tab.call("join", {"episode_id": room.episode_id}))["ok"]
    assert (await lea.call("leave", {"episode_id": room.episode_id}))["ok"]
    try:
        assert await drawn_from(giveaways, giveaway) == [entry]
    finally:
        await other_tab.sio.disconnect()


async def test_a_minimum_watch_time_counts_this_episode_only(
    giveaways: Giveaways, join: Join, room: Room, clock: Any
) -> None:
    lea = await join("Lea")
    giveaway = await giveaways.opened(eligibility={"present_at_draw": True, "min_watch_minutes": 10})
    lea_entry = await giveaways.enter(lea, giveaway)
    clock.advance(minutes=9)
    tom = await join("Tom")
    tom_entry = await giveaways.enter(tom, giveaway)
    clock.advance(minutes=1, seconds=30)  # Lea: 10.5 min, Tom: 1.5 min
    assert await drawn_from(giveaways, giveaway) == [lea_entry]
    assert tom_entry


async def test_watch_time_adds_up_across_visits(giveaways: Giveaways, join: Join, room: Room, clock: Any) -> None:
    lea = await join("Lea")
    giveaway = await giveaways.opened(eligibility={"present_at_draw": False, "min_watch_minutes": 5})
    entry = await giveaways.enter(lea, giveaway)
    clock.advance(minutes=3)
    await lea.call("leave", {"episode_id": room.episode_id})
    clock.advance(minutes=30)  # away: does not count
    await lea.call("join", {"episode_id": room.episode_id})
    clock.advance(minutes=2, seconds=1)
    assert await drawn_from(giveaways, giveaway) == [entry]


async def test_only_buyers_during_the_show_can_win_when_the_giveaway_asks(
    shop: Shop, giveaways: Giveaways, join: Join
) -> None:
    lea, tom, zoe = await join("Lea"), await join("Tom"), await join("Zoe")
    giveaway = await giveaways.opened(eligibility={"present_at_draw": True, "bought_during_show": True})
    entries = {v: await giveaways.enter(v, giveaway) for v in (lea, tom, zoe)}
    await shop.buy(bearer(tom), str(uuid.uuid4()))
    cancelled = await shop.buy(bearer(zoe), str(uuid.uuid4()))
    assert (await shop.move(cancelled["id"], "cancelled")).status == 200
    await shop.add(bearer(lea))  # in the cart, never ordered
    assert await drawn_from(giveaways, giveaway) == [entries[tom]]


async def test_banned_and_timed_out_entrants_are_left_out_of_the_draw(
    giveaways: Giveaways, join: Join, room: Room, clock: Any
) -> None:
    lea, tom, zoe, moderator = await join("Lea"), await join("Tom"), await join("Zoe"), await join(room.moderator)
    giveaway = await giveaways.opened(winners=3, eligibility=NOBODY_PRESENT)
    entries = {v: await giveaways.enter(v, giveaway) for v in (lea, tom, zoe)}
    rude = await send(lea, room.episode_id, "rude")
    spam = await send(tom, room.episode_id, "spam")
    ban = await moderator.call("chat:ban", {"episode_id": room.episode_id, "message_id": rude["id"]})
    timeout = await moderator.call(
        "chat:timeout", {"episode_id": room.episode_id, "message_id": spam["id"], "minutes": 5}
    )
    assert ban["ok"] and timeout["ok"], (ban, timeout)
    assert await drawn_from(giveaways, giveaway) == [entries[zoe]]


async def test_a_time_out_over_by_the_draw_no_longer_excludes(
    giveaways: Giveaways, join: Join, room: Room, clock: Any
) -> None:
    tom, moderator = await join("Tom"), await join(room.moderator)
    giveaway = await giveaways.opened(eligibility=NOBODY_PRESENT)
    entry = await giveaways.enter(tom, giveaway)
    spam = await send(tom, room.episode_id, "spam")
    data = {"episode_id": room.episode_id, "message_id": spam["id"], "minutes": 5}
    assert (await moderator.call("chat:timeout", data))["ok"]
    clock.advance(minutes=5, seconds=1)
    assert await drawn_from(giveaways, giveaway) == [entry]


async def test_two_tabs_at_once_count_their_time_once(
    giveaways: Giveaways, join: Join, room: Room, client: Any, clock: Any
) -> None:
    lea = await join("Lea")
    other_tab = Viewer()
    await other_tab.connect(client, lea.token)
    try:
        assert (await other_tab.call("join", {"episode_id": room.episode_id}))["ok"]
        giveaway = await giveaways.opened(eligibility={"present_at_draw": True, "min_watch_minutes": 10})
        await giveaways.enter(lea, giveaway)
        clock.advance(minutes=6)  # 6 minutes in two tabs: 6 minutes watched, not 12
        await giveaways.done(giveaway, "close")
        await refused(await giveaways.act(giveaway, "draw"), 409, "no eligible entry")
    finally:
        await other_tab.sio.disconnect()
