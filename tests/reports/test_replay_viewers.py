"""A replay player cannot count more than it could have played: beats sooner than the interval are
refused, two tabs of one viewer count the time once, a viewer's replay time stops at the recording's
length, the live's episode is refused (its room counts the live) and an unknown one is not found.
The replay's card views count once per viewer and pin, only the episode's pins, never the staff's."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import SettableClock
from tests.factories import Factory
from tests.reports.conftest import Shop
from tests.reports.replay_player import BEAT, beat, record_replay, see_card_in_replay

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def replay_report(shop: Shop) -> dict[str, Any]:
    response = await shop.client.get(f"/api/v1/episodes/{shop.episode_id}/report", headers=shop.room.manager.headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def end_show(shop: Shop) -> None:
    ended = await shop.client.post(f"/api/v1/episodes/{shop.episode_id}/end", headers=shop.room.host.headers)
    assert ended.status == 200, await ended.text()


async def test_a_replay_player_counts_no_more_than_it_could_have_played(shop: Shop, clock: SettableClock) -> None:
    lea = await shop.guest()
    during_the_live = await beat(shop, lea, resumed=True)
    assert during_the_live.status == 409
    assert "live room counts the live" in (await during_the_live.json())["detail"]
    await end_show(shop)
    record_replay(shop, seconds=60)
    assert (await beat(shop, {}, resumed=True)).status == 401
    assert (await beat(shop, lea, episode_id=UNKNOWN)).status == 404

    started = await beat(shop, lea, resumed=True)
    assert await started.json() == {"counting": True, "watched_seconds": 0, "beat_seconds": BEAT}
    clock.advance(seconds=5)
    too_soon = await beat(shop, lea)  # 5 s after the last: refused, and when to come back said
    assert too_soon.status == 429
    assert (await too_soon.json())["retry_after"] == 7  # 80% of the interval, 12 s, after the last
    clock.advance(seconds=7)
    assert (await (await beat(shop, lea)).json())["watched_seconds"] == 12

    # Two tabs of one viewer beating at once: one beat is counted, the other refused.
    clock.advance(seconds=BEAT)
    tabs = await asyncio.gather(beat(shop, lea), beat(shop, lea))
    assert sorted(tab.status for tab in tabs) == [200, 429]
    # Played on past the recording's length: counted up to it (60 s), then no more, even after a pause.
    answers = []
    for _ in range(4):
        clock.advance(seconds=BEAT)
        answers.append(await (await beat(shop, lea)).json())
    assert [(a["counting"], a["watched_seconds"]) for a in answers] == [(True, 42), (True, 57), (True, 60), (False, 60)]
    clock.advance(minutes=10)
    assert (await (await beat(shop, lea, resumed=True)).json())["watched_seconds"] == 60

    replay = (await replay_report(shop))["audience"]["replay"]
    assert (replay["unique_viewers"], replay["watch_seconds"]) == (1, 60)


async def test_a_replay_card_view_counts_once_and_only_for_the_episodes_own_pins(
    shop: Shop, factory: Factory, clock: SettableClock
) -> None:
    pin = await shop.pin()
    lea = await shop.guest()
    assert (await see_card_in_replay(shop, lea, pin["id"])).status == 409  # live: the room counts it
    rival = await shop.rival()
    rival_show = await factory.show(rival.slug, rival.manager)
    rival_episode = (await factory.episodes(rival_show["id"], rival.manager))[0]["id"]
    went_live = await shop.client.post(f"/api/v1/episodes/{rival_episode}/start", headers=rival.manager.headers)
    assert went_live.status == 200, await went_live.text()
    rival_pin = await shop.client.post(
        f"/api/v1/episodes/{rival_episode}/pin", json={"product_id": rival.product["id"]}, headers=rival.manager.headers
    )
    assert rival_pin.status == 201, await rival_pin.text()
    await end_show(shop)
    clock.advance(minutes=1)

    assert (await see_card_in_replay(shop, lea, (await rival_pin.json())["id"])).status == 404
    unknown = await shop.client.post(
        f"/api/v1/episodes/{UNKNOWN}/replay/card-views", json={"pin_id": pin["id"]}, headers=lea
    )
    assert unknown.status == 404
    for _ in range(2):  # the card shown again (the viewer went back): one view
        assert (await see_card_in_replay(shop, lea, pin["id"])).status == 204
    assert (await see_card_in_replay(shop, shop.room.manager.headers, pin["id"])).status == 204  # staff: not counted

    [dress] = (await replay_report(shop))["products"]
    assert (dress["card_views"], dress["replay_card_views"]) == (1, 1)
