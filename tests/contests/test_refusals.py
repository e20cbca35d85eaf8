"""Every refusal of the issue's "bad input" list reads as a user reads it (status and reason), and
leaves nothing half-written; every action is authorised by role and brand, on HTTP and the socket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.catalog.conftest import COMMERCE
from tests.contests.conftest import Giveaways, Join, Room, refused_event
from tests.factories import Factory
from tests.live_room import Viewer, send
from tests.problems import refused


def entering(room: Room, giveaway: dict[str, Any]) -> dict[str, str]:
    return {"episode_id": room.episode_id, "giveaway_id": giveaway["id"]}


async def test_entering_twice_or_after_close_is_refused_and_counts_once(
    giveaways: Giveaways, join: Join, room: Room
) -> None:
    lea = await join("Lea")
    giveaway = await giveaways.opened()
    await giveaways.enter(lea, giveaway)
    await refused_event(lea, "giveaway:enter", entering(room, giveaway), 409, "you already entered this giveaway")
    await giveaways.done(giveaway, "close")
    tom = await join("Tom")
    await refused_event(tom, "giveaway:enter", entering(room, giveaway), 409, "entries are closed")
    assert (await giveaways.staff_view(giveaway))["entries"] == 1
    keyword = await giveaways.opened(entry="keyword", keyword="win")
    await giveaways.done(keyword, "close")
    assert "entry" not in await tom.call("chat:send", {"episode_id": room.episode_id, "text": "WIN"})
    assert (await giveaways.staff_view(keyword))["entries"] == 0


async def test_banned_and_timed_out_viewers_cannot_enter(giveaways: Giveaways, join: Join, room: Room) -> None:
    lea, tom, moderator = await join("Lea"), await join("Tom"), await join(room.moderator)
    giveaway = await giveaways.opened()
    spam, rude = await send(lea, room.episode_id, "spam"), await send(tom, room.episode_id, "rude")
    data = {"episode_id": room.episode_id, "message_id": spam["id"], "minutes": 5}
    assert (await moderator.call("chat:timeout", data))["ok"]
    reason = {"episode_id": room.episode_id, "message_id": rude["id"], "reason": "insults"}
    assert (await moderator.call("chat:ban", reason))["ok"]
    await tom.wait_for("chat:viewer-removed")
    error = await refused_event(lea, "giveaway:enter", entering(room, giveaway), 403, "you are timed out")
    assert error["detail"] == "you are timed out: you can enter giveaways again in 5 min" and error["until"]
    await refused_event(
        tom, "giveaway:enter", entering(room, giveaway), 403, "you are banned from this brand's chats: insults"
    )
    assert (await giveaways.staff_view(giveaway))["entries"] == 0


async def test_a_crowd_entering_at_once_is_entered_once_each_and_the_refused_alone_are_refused(
    giveaways: Giveaways, join: Join, room: Room
) -> None:
    # Entries arriving together are written together: a timed-out viewer's or the host's tap must
    # not refuse the others sent with it, and two taps of one viewer make one entry.
    crowd = [await join(f"Viewer {n}") for n in range(12)]
    lea, moderator, host = await join("Lea"), await join(room.moderator), await join(room.host)
    giveaway = await giveaways.opened()
    spam = await send(lea, room.episode_id, "spam")
    data = {"episode_id": room.episode_id, "message_id": spam["id"], "minutes": 5}
    assert (await moderator.call("chat:timeout", data))["ok"]
    tappers = [v for v in crowd for _ in range(2)] + [lea, host]
    acks = await asyncio.gather(*(v.call("giveaway:enter", entering(room, giveaway)) for v in tappers))
    for n in range(len(crowd)):
        pair = acks[2 * n : 2 * n + 2]
        assert sorted(a["ok"] for a in pair) == [False, True], pair
        assert next(a for a in pair if not a["ok"])["error"]["detail"] == "you already entered this giveaway"
    assert acks[-2]["error"]["detail"] == "you are timed out: you can enter giveaways again in 5 min", acks[-2]
    assert acks[-1]["error"]["detail"] == "the brand's staff cannot enter its giveaways", acks[-1]
    entry_ids = {a["entry"]["id"] for a in acks if a["ok"]}
    assert len(entry_ids) == len(crowd) and (await giveaways.staff_view(giveaway))["entries"] == len(crowd)


async def test_entering_needs_a_token_the_right_episode_and_an_open_giveaway(
    giveaways: Giveaways, join: Join, room: Room, client: Any, factory: Factory
) -> None:
    lea = await join("Lea")
    draft = await giveaways.prepare()
    await refused_event(lea, "giveaway:enter", entering(room, draft), 404, f"no giveaway {draft['id']} in this episode")
    giveaway = await giveaways.done(draft, "open")
    anonymous = Viewer()
    await anonymous.connect(client, None)
    try:
        assert (await anonymous.call("join", {"episode_id": room.episode_id}))["ok"]
        await refused_event(anonymous, "giveaway:enter", entering(room, giveaway), 401, "join as a guest")
    finally:
        await anonymous.sio.disconnect()
    show = await factory.show("acme", room.manager, title="Another show")
    other = (await factory.episodes(show["id"], room.manager))[0]["id"]
    assert (await lea.call("join", {"episode_id": other}))["ok"]
    data = {"episode_id": other, "giveaway_id": giveaway["id"]}
    await refused_event(lea, "giveaway:enter", data, 404, "in this episode")
    host = await join(room.host)
    await refused_event(host, "giveaway:enter", entering(room, giveaway), 403, "the brand's staff cannot enter")
    assert (await giveaways.staff_view(giveaway))["entries"] == 0


async def test_drawing_twice_early_or_with_nobody_eligible_is_refused_and_writes_nothing(
    giveaways: Giveaways, join: Join, room: Room
) -> None:
    lea = await join("Lea")
    giveaway = await giveaways.opened()
    await giveaways.enter(lea, giveaway)
    await refused(await giveaways.act(giveaway, "draw"), 409, "close its entries before drawing")
    await lea.call("leave", {"episode_id": room.episode_id})  # not present at the draw
    await giveaways.done(giveaway, "close")
    await refused(await giveaways.act(giveaway, "draw"), 409, "no eligible entry")
    after = await giveaways.staff_view(giveaway)
    assert after["status"] == "closed" and after["seed"] is None and after["drawn_winners"] == []
    proof = await giveaways.proof(giveaway)
    assert proof["seed"] is None and proof["rounds"] == []
    await lea.call("join", {"episode_id": room.episode_id})
    drawn = await giveaways.done(giveaway, "draw")
    await refused(await giveaways.act(giveaway, "draw"), 409, "this giveaway is already drawn")
    assert (await giveaways.staff_view(giveaway))["drawn_winners"] == drawn["drawn_winners"]
    assert len((await giveaways.proof(giveaway))["rounds"]) == 1


async def test_only_the_winner_claims_and_only_before_the_deadline(
    giveaways: Giveaways, join: Join, room: Room, client: Any, clock: Any
) -> None:
    await client.put("/api/v1/brands/acme/commerce", json=COMMERCE, headers=room.manager.headers)
    lea, tom = await join("Lea"), await join("Tom")
    giveaway = await giveaways.opened(winners=1, claim_hours=2)
    entries = {await giveaways.enter(lea, giveaway): lea, await giveaways.enter(tom, giveaway): tom}
    await giveaways.done(giveaway, "close")
    drawn = await giveaways.done(giveaway, "draw")
    winner = entries[drawn["drawn_winners"][0]["entry_id"]]
    loser = tom if winner is lea else lea
    await refused(await giveaways.claim(loser, giveaway), 403, "this prize is not yours")
    stranger = await join("Max")
    await refused(await giveaways.claim(stranger, giveaway), 403, "this prize is not yours")
    staff = await client.post(
        f"/api/v1/giveaways/{giveaway['id']}/claim",
        json={"email": "host@example.com", "pickup_store_id": "paris-1"},
        headers=room.host.headers,
    )
    await refused(staff, 403, "this prize is not yours")
    both = {"email": "a@example.com", "pickup_store_id": "paris-1", "delivery": None}
    await refused(await giveaways.claim(winner, giveaway, **{**both, "pickup_store_id": None}), 422, "either")
    assert (await giveaways.me(winner, giveaway))["claim"]["status"] == "pending"  # nothing written
    assert (await giveaways.me(loser, giveaway))["won"] is False
    clock.advance(hours=2)
    await refused(await giveaways.claim(winner, giveaway), 409, "the claim deadline has passed")
    mine = await giveaways.me(winner, giveaway)
    assert mine["claim"]["status"] == "expired" and mine["claim"]["claim"] is None


async def test_a_prize_is_claimed_once(giveaways: Giveaways, join: Join, room: Room, client: Any) -> None:
    await client.put("/api/v1/brands/acme/commerce", json=COMMERCE, headers=room.manager.headers)
    lea = await join("Lea")
    giveaway = await giveaways.opened()
    await giveaways.enter(lea, giveaway)
    await giveaways.done(giveaway, "close")
    await giveaways.done(giveaway, "draw")
    assert (await giveaways.claim(lea, giveaway)).status == 200
    again = await giveaways.claim(lea, giveaway, email="other@example.com", pickup_store_id="paris-1")
    await refused(again, 409, "you already claimed this prize")
    assert (await giveaways.me(lea, giveaway))["claim"]["claim"]["email"] == "winner@example.com"
    for who, sees in (
        (room.manager, {"email": "winner@example.com", "delivery": None, "pickup_store_id": "paris-1"}),
        (room.host, None),
        (room.moderator, None),
    ):
        (winner,) = (await giveaways.staff_view(giveaway, who))["drawn_winners"]
        assert winner["status"] == "claimed" and winner["claim"] == sees  # addresses: managers only


async def test_drafts_change_until_opened_and_one_giveaway_takes_entries_at_a_time(
    giveaways: Giveaways, client: Any, room: Room
) -> None:
    manager = room.manager.headers
    keyword = await client.post(
        room.path("/giveaways"), json={"prize": SCARF_PRIZE, "entry": "keyword"}, headers=manager
    )
    await refused(keyword, 422, "a keyword entry needs its keyword")
    draft = await giveaways.prepare()
    changed = await client.patch(f"/api/v1/giveaways/{draft['id']}", json={"winners": 3}, headers=manager)
    assert changed.status == 200 and (await changed.json())["winners"] == 3
    no_keyword = await client.patch(f"/api/v1/giveaways/{draft['id']}", json={"entry": "keyword"}, headers=manager)
    await refused(no_keyword, 422, "a keyword entry needs its keyword")
    await giveaways.done(draft, "open")
    late = await client.patch(f"/api/v1/giveaways/{draft['id']}", json={"winners": 1}, headers=manager)
    await refused(late, 409, "only a draft can be changed or deleted; this giveaway is open")
    await refused(await client.delete(f"/api/v1/giveaways/{draft['id']}", headers=manager), 409, "only a draft")
    second = await giveaways.prepare()
    await refused(await giveaways.act(second, "open"), 409, "another giveaway is taking entries")
    await refused(await giveaways.act(draft, "open"), 409, "this giveaway is already open")
    assert (await client.delete(f"/api/v1/giveaways/{second['id']}", headers=manager)).status == 204
    assert (await client.get(f"/api/v1/public/giveaways/{second['id']}/proof")).status == 404


async def test_a_giveaway_opens_and_draws_only_during_the_live(
    giveaways: Giveaways, client: Any, room: Room, factory: Factory
) -> None:
    show = await factory.show("acme", room.manager, title="Later show")
    later = (await factory.episodes(show["id"], room.manager))[0]["id"]
    made = await client.post(
        f"/api/v1/episodes/{later}/giveaways", json={"prize": SCARF_PRIZE}, headers=room.manager.headers
    )
    assert made.status == 201
    await refused(
        await giveaways.act(await made.json(), "open"), 409, "the episode is scheduled: open a giveaway during the live"
    )


SCARF_PRIZE = {"title": "The silk scarf", "value": {"amount": 8900, "currency": "EUR"}}

# (method, path suffix on /api/v1/giveaways/{id} or the episode's, who may)
ACTIONS = [
    ("POST", "episode", {"manager"}),
    ("GET", "episode", {"manager", "host", "moderator"}),
    ("PATCH", "", {"manager"}),
    ("POST", "/open", {"manager", "host"}),
    ("POST", "/close", {"manager", "host"}),
    ("POST", "/draw", {"manager", "host"}),
    ("POST", "/redraw", {"manager", "host"}),
    ("DELETE", "", {"manager"}),
]


@pytest.mark.parametrize(
    ("method", "suffix", "allowed"), ACTIONS, ids=[f"{m} {s or 'giveaway'}" for m, s, _ in ACTIONS]
)
async def test_each_action_needs_its_role_in_the_giveaway_s_brand(
    method: str, suffix: str, allowed: set[str], giveaways: Giveaways, client: Any, room: Room, factory: Factory
) -> None:
    giveaway = await giveaways.prepare()
    await factory.brand("globex")
    callers = {
        "manager": room.manager.headers,
        "host": room.host.headers,
        "moderator": room.moderator.headers,
        "globex manager": (await factory.staff("globex", "manager")).headers,
        "guest": await factory.guest("Lea"),
        "nobody": {},
    }
    path = room.path("/giveaways") if suffix == "episode" else f"/api/v1/giveaways/{giveaway['id']}{suffix}"
    body = {"prize": SCARF_PRIZE} if method in ("POST", "PATCH") and suffix in ("episode", "") else None
    for who, headers in callers.items():
        if who in allowed:
            continue
        response = await client.request(method, path, json=body, headers=headers)
        if who == "nobody":
            await refused(response, 401, "sign in first")
        elif who == "guest":
            await refused(response, 403, "guests cannot do this")
        elif who == "globex manager":
            await refused(response, 403, "you have no role in this brand")
        else:
            await refused(response, 403, f"you are {who}")
    listed = await client.get(room.path("/giveaways"), headers=room.manager.headers)
    assert [g["status"] for g in await listed.json()] == ["draft"]  # no refusal changed anything


async def test_managers_run_a_giveaway_on_air_too_and_other_brands_staff_enter_as_viewers(
    giveaways: Giveaways, join: Join, room: Room, client: Any, factory: Factory
) -> None:
    await factory.brand("globex")
    outsider = await join(await factory.staff("globex", "manager"))
    giveaway = await giveaways.prepare(eligibility={"present_at_draw": False})
    for action in ("open", "close", "draw"):
        if action == "close":
            assert await giveaways.enter(outsider, giveaway)  # a viewer here, whatever their role elsewhere
        response = await giveaways.act(giveaway, action, room.manager)
        assert response.status == 200, await response.text()
    listed = await client.get(room.path("/giveaways"), headers=room.moderator.headers)
    assert [g["status"] for g in await listed.json()] == ["drawn"]


async def test_two_taps_at_once_make_one_entry_and_two_draws_at_once_one_draw(
    giveaways: Giveaways, join: Join, room: Room, client: Any
) -> None:
    lea = await join("Lea")
    giveaway = await giveaways.opened()
    acks = await asyncio.gather(*(lea.call("giveaway:enter", entering(room, giveaway)) for _ in range(4)))
    assert sorted(a["ok"] for a in acks) == [False, False, False, True], acks
    assert {a["error"]["status"] for a in acks if not a["ok"]} == {409}
    await giveaways.done(giveaway, "close")
    draws = await asyncio.gather(giveaways.act(giveaway, "draw"), giveaways.act(giveaway, "draw", room.manager))
    assert sorted(r.status for r in draws) == [200, 409]
    assert len((await giveaways.proof(giveaway))["rounds"]) == 1
    assert (await giveaways.staff_view(giveaway))["entries"] == 1
