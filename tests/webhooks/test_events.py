"""The shows' and giveaways' events reach the brand's shop: an episode going live and ending, a giveaway
drawn (and redrawn), each delivered signed with what the shop needs."""

from __future__ import annotations

from typing import Any

from tests.catalog.conftest import Shop
from tests.conftest import SettableClock
from tests.contests.conftest import Giveaways, Join
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver


async def test_an_episode_going_live_and_ending_reaches_the_shop(shop: Shop, hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.add(receiver.url(), ["episode.live", "episode.ended"])
    manager, host = shop.room.manager, shop.room.host
    show = await shop.factory.show("acme", manager, title="Friday Finds", rrule="FREQ=WEEKLY;BYDAY=FR")
    episode = (await shop.factory.episodes(show["id"], manager))[0]
    for action in ("start", "end"):
        response = await shop.client.post(f"/api/v1/episodes/{episode['id']}/{action}", headers=host.headers)
        assert response.status == 200, await response.text()
    await shop.client.post(f"/api/v1/episodes/{shop.episode_id}/end", headers=host.headers)
    await hooks.settled(endpoint, 3)

    # Deliveries are sent side by side, in no promised order: a shop orders them by their timestamp.
    told = {(t["type"], t["data"]["id"]): t for t in (r.verify(endpoint["secret"]) for r in receiver.accepted("shop"))}
    assert set(told) == {
        ("episode.live", episode["id"]),
        ("episode.ended", episode["id"]),
        ("episode.ended", shop.episode_id),
    }
    live, ended = told["episode.live", episode["id"]]["data"], told["episode.ended", episode["id"]]["data"]
    assert live["status"] == "live" and live["title"] == "Friday Finds" and live["went_live_at"] is not None
    assert ended["status"] == "ended" and ended["ended_at"] is not None
    deliveries = await hooks.deliveries(endpoint)
    assert {d["about"] for d in deliveries} == {f"episode:{episode['id']}", f"episode:{shop.episode_id}"}


async def test_a_giveaway_drawn_reaches_the_shop_with_its_winners_and_proof(
    shop: Shop,
    hooks: Hooks,
    receiver: Receiver,
    giveaways: Giveaways,
    join: Join,
    clock: SettableClock,
) -> None:
    endpoint = await hooks.add(receiver.url(), ["giveaway.drawn"])
    lea, tom = await join("Lea"), await join("Tom")
    giveaway = await giveaways.opened(winners=1, claim_hours=1)
    entries = {await giveaways.enter(lea, giveaway): "Lea", await giveaways.enter(tom, giveaway): "Tom"}
    await giveaways.done(giveaway, "close")
    drawn = await giveaways.done(giveaway, "draw")
    clock.advance(hours=2)  # the prize was not claimed in time: drawn again
    await giveaways.done(giveaway, "redraw")
    await hooks.settled(endpoint, 2)

    told: list[dict[str, Any]] = sorted(
        (r.verify(endpoint["secret"]) for r in receiver.accepted("shop")), key=lambda t: t["data"]["round"]
    )
    assert [(t["type"], t["data"]["round"]) for t in told] == [("giveaway.drawn", 0), ("giveaway.drawn", 1)]
    first = told[0]["data"]
    assert first["giveaway_id"] == giveaway["id"] and first["episode_id"] == shop.episode_id
    assert first["prize_title"] == "The silk scarf" and first["seed"] == drawn["seed"]
    assert first["proof_url"] == f"/api/v1/public/giveaways/{giveaway['id']}/proof"
    [winner] = first["winners"]
    assert winner["name"] == entries[winner["entry_id"]]
    [second] = told[1]["data"]["winners"]
    assert second["entry_id"] != winner["entry_id"]
