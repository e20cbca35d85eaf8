"""A poll closes by itself at the end of its countdown, or with its live; products as options."""

from __future__ import annotations

from typing import Any

from tests.catalog.conftest import Shop, shop  # noqa: F401  (a brand that sells, with its live room)
from tests.polls.conftest import Join, Polls, Room, vote


async def test_a_poll_with_a_countdown_closes_by_itself(join: Join, room: Room, polls: Polls, clock: Any) -> None:
    lea = await join("Lea")
    poll = await polls.open(duration_seconds=30)
    opened = await lea.wait_for("poll:opened")
    assert (
        opened["poll"]["closes_at"] == "2026-09-20T10:00:30Z" and opened["poll"]["opened_at"] == "2026-09-20T10:00:00Z"
    )
    assert (await lea.call("poll:vote", vote(room.episode_id, poll, 2)))["ok"]
    clock.advance(seconds=29)
    assert (await lea.call("poll:vote", vote(room.episode_id, poll, 1)))["ok"]  # changed in the last second
    clock.advance(seconds=1)
    closed = await lea.wait_for("poll:closed")  # the clock ticks each second on every process
    assert closed["poll"]["status"] == "closed"
    assert closed["result"]["votes"][poll["options"][1]["id"]] == 1 and closed["result"]["voters"] == 1
    listed = (await polls.listed())[0]
    assert listed["closed_at"] == "2026-09-20T10:00:30Z" and listed["result"] == closed["result"]
    assert len(lea.events("poll:closed")) == 1


async def test_an_open_poll_closes_when_the_live_ends(join: Join, room: Room, polls: Polls, client: Any) -> None:
    lea = await join("Lea")
    await polls.open()
    assert (await client.post(room.path("/end"), headers=room.host.headers)).status == 200
    closed = await lea.wait_for("poll:closed")
    assert closed["result"]["voters"] == 0


async def test_an_option_can_be_a_product_of_the_lineup(shop: Shop, join: Join, client: Any) -> None:  # noqa: F811
    room = shop.room
    lineup = await client.put(
        room.path("/lineup"), json={"product_ids": [shop.product["id"]]}, headers=room.host.headers
    )
    assert lineup.status == 200, await lineup.text()
    polls = Polls(client, room)
    poll = await polls.open(
        question="Which one next?", options=[{"product_id": shop.product["id"]}, {"label": "Both!"}]
    )
    first = poll["options"][0]
    assert first["label"] == "Linen dress"
    assert first["product"] == {
        "id": shop.product["id"], "title": "Linen dress", "picture_url": "https://cdn.example.test/dress.jpg",
        "price": {"amount": 4990, "currency": "EUR"},
    }  # fmt: skip
    assert poll["options"][1]["product"] is None
    lea = await join("Lea")
    assert lea.ack["snapshot"]["poll"]["options"][0]["product"] == first["product"]
