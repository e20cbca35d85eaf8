"""A giveaway on air, as viewers and the host live it: open with a commitment, enter by the button
or the chat keyword, close, draw with the seed revealed, a proof anyone can check with the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

from tests.catalog.conftest import COMMERCE
from tests.contests.conftest import Giveaways, Join, Room, write_proof
from tests.live_room import send
from tests.test_cli import shopcast


async def test_open_enter_by_button_and_keyword_close_draw_and_the_proof_verifies(
    giveaways: Giveaways, join: Join, room: Room, tmp_path: Path
) -> None:
    lea, tom, zoe = await join("Lea"), await join("Tom"), await join("Zoe")
    giveaway = await giveaways.opened(entry="keyword", keyword="Scarf", winners=2)
    opened = await zoe.wait_for("giveaway:opened")
    commitment = opened["giveaway"]["commitment"]
    assert opened["giveaway"]["id"] == giveaway["id"] and len(commitment) == 64
    assert opened["giveaway"]["status"] == "open" and opened["giveaway"]["keyword"] == "Scarf"
    assert "seed" not in opened["giveaway"]

    lea_entry = await giveaways.enter(lea, giveaway)  # the player's button works for a keyword giveaway too
    ack = await tom.call("chat:send", {"episode_id": room.episode_id, "text": "  sCARF "})
    assert ack["ok"] and ack["message"]["text"] == "sCARF", ack
    tom_entry = ack["entry"]["id"]
    assert ack["entry"]["giveaway_id"] == giveaway["id"]
    again = await tom.call("chat:send", {"episode_id": room.episode_id, "text": "scarf"})
    assert again["entry"]["id"] == tom_entry  # the keyword again: the same entry, not a second one
    chatting = await send(zoe, room.episode_id, "I love that scarf")
    assert "entry" not in (await zoe.call("chat:send", {"episode_id": room.episode_id, "text": "scarves!"}))
    assert chatting["text"] == "I love that scarf"
    zoe_entry = await giveaways.enter(zoe, giveaway)
    assert len({lea_entry, tom_entry, zoe_entry}) == 3

    assert (await zoe.wait_for("giveaway:entries", entries=3))["giveaway_id"] == giveaway["id"]
    closed = await giveaways.done(giveaway, "close")
    assert closed["status"] == "closed" and closed["entries"] == 3
    told = await lea.wait_for("giveaway:closed")
    assert told["giveaway_id"] == giveaway["id"] and told["entries"] == 3

    drawn = await giveaways.done(giveaway, "draw")
    reveal = await lea.wait_for("giveaway:drawn")
    assert hashlib.sha256(bytes.fromhex(reveal["seed"])).hexdigest() == commitment
    assert reveal["round"] == 0 and reveal["eligible"] == 3
    assert reveal["proof_url"] == f"/api/v1/public/giveaways/{giveaway['id']}/proof"
    names = {lea_entry: "Lea", tom_entry: "Tom", zoe_entry: "Zoe"}
    assert len(reveal["winners"]) == 2
    for winner in reveal["winners"]:
        assert winner["name"] == names[winner["entry_id"]]
    assert [w["entry_id"] for w in drawn["drawn_winners"]] == [w["entry_id"] for w in reveal["winners"]]
    assert {w["status"] for w in drawn["drawn_winners"]} == {"pending"} and drawn["seed"] == reveal["seed"]

    proof = await giveaways.proof(giveaway)
    assert proof["seed"] == reveal["seed"] and proof["commitment"] == commitment
    assert proof["algorithm"] == "shopcast-draw-v1"
    assert proof["rounds"] == [
        {
            "round": 0,
            "prizes": 2,
            "eligible_entry_ids": sorted([lea_entry, tom_entry, zoe_entry]),
            "winners": [w["entry_id"] for w in reveal["winners"]],
        }
    ]
    assert "Lea" not in str(proof) and "Tom" not in str(proof)  # ids only, nothing personal
    code, out, err = await shopcast("giveaway", "verify", "--proof", str(write_proof(tmp_path, proof)), env={})
    assert code == 0, (out, err)
    assert "the draw matches its proof" in out and f"commitment {commitment} = sha256(seed)" in out

    late = await join("Max")
    shown = late.ack["snapshot"]["giveaway"]
    assert shown["status"] == "drawn" and shown["my_entry_id"] is None and shown["entries"] == 3
    assert shown["drawn"] == {"round": 0, "seed": reveal["seed"], "winners": reveal["winners"]}


async def test_a_joining_viewer_sees_the_open_giveaway_and_their_own_entry(giveaways: Giveaways, join: Join) -> None:
    lea = await join("Lea")
    assert lea.ack["snapshot"]["giveaway"] is None
    draft = await giveaways.prepare()
    assert (await join("Tom")).ack["snapshot"]["giveaway"] is None  # drafts stay backstage
    giveaway = await giveaways.done(draft, "open")
    entry = await giveaways.enter(lea, giveaway)
    await lea.call("leave", {"episode_id": giveaways.room.episode_id})
    back = await lea.call("join", {"episode_id": giveaways.room.episode_id})
    shown = back["snapshot"]["giveaway"]
    assert shown["my_entry_id"] == entry and shown["entries"] == 1 and shown["status"] == "open"
    assert shown["commitment"] == giveaway["commitment"] and shown["drawn"] is None
    assert shown["prize"]["value"] == {"amount": 8900, "currency": "EUR"}
    assert (await giveaways.me(lea, giveaway)) == {"entry_id": entry, "won": False, "claim": None}


async def test_entry_counts_reach_the_room_at_most_twice_a_second_and_end_exact(
    giveaways: Giveaways, join: Join
) -> None:
    watcher = await join("Watcher")
    giveaway = await giveaways.opened(eligibility={"present_at_draw": False})
    viewers = [await join(f"Viewer{i}") for i in range(12)]
    started = time.monotonic()
    await asyncio.gather(*(giveaways.enter(v, giveaway) for v in viewers))
    await watcher.wait_for("giveaway:entries", entries=12)
    elapsed = time.monotonic() - started
    counts = [e["entries"] for e in watcher.events("giveaway:entries")]
    assert counts == sorted(counts) and counts[-1] == 12
    # At most one count per half second since the burst began, plus the one told when it opened.
    assert len(counts) <= 2 * elapsed + 3, (counts, elapsed)


async def test_a_winner_claims_and_an_unclaimed_prize_is_redrawn_verifiably(
    giveaways: Giveaways, join: Join, room: Room, clock: Any, tmp_path: Path, client: Any
) -> None:
    stores = await client.put("/api/v1/brands/acme/commerce", json=COMMERCE, headers=room.manager.headers)
    assert stores.status == 200, await stores.text()
    viewers = {name: await join(name) for name in ("Lea", "Tom", "Zoe", "Max")}
    giveaway = await giveaways.opened(winners=2, claim_hours=1, eligibility={"present_at_draw": False})
    entries = {name: await giveaways.enter(v, giveaway) for name, v in viewers.items()}
    by_entry = {entry: name for name, entry in entries.items()}
    await giveaways.done(giveaway, "close")
    drawn = await giveaways.done(giveaway, "draw")
    first, second = (by_entry[w["entry_id"]] for w in drawn["drawn_winners"])

    mine = await giveaways.me(viewers[first], giveaway)
    assert mine["won"] and mine["entry_id"] == entries[first]
    assert mine["claim"]["status"] == "pending" and mine["claim"]["fields"] == ["email", "delivery", "pickup_store_id"]
    assert [s["id"] for s in mine["claim"]["pickup_stores"]] == ["paris-1"]
    nowhere = await giveaways.claim(viewers[first], giveaway, email="lea@example.com", pickup_store_id="lyon-9")
    assert nowhere.status == 422 and "no pickup store 'lyon-9'" in (await nowhere.json())["detail"]
    early = await giveaways.act(giveaway, "redraw")
    assert early.status == 409 and "nothing to redraw" in (await early.json())["detail"]
    delivery = {
        "name": "Léa Martin",
        "address_line": "3 rue Oberkampf",
        "postal_code": "75011",
        "city": "Paris",
        "country": "fr",
    }
    claimed = await giveaways.claim(viewers[first], giveaway, email="lea@example.com", delivery=delivery)
    assert claimed.status == 200, await claimed.text()
    assert (await claimed.json())["claim"]["status"] == "claimed"

    clock.advance(hours=1, seconds=1)
    late = await giveaways.claim(viewers[second], giveaway)
    assert late.status == 409 and "the claim deadline has passed" in (await late.json())["detail"]
    redrawn = await giveaways.done(giveaway, "redraw")
    event = await viewers["Lea"].wait_for("giveaway:redrawn")
    assert event["round"] == 1 and event["eligible"] == 2 and event["seed"] == drawn["seed"]
    (replacement,) = event["winners"]
    assert by_entry[replacement["entry_id"]] not in (first, second)
    statuses = {(w["round"], by_entry[w["entry_id"]]): w["status"] for w in redrawn["drawn_winners"]}
    assert statuses == {
        (0, first): "claimed",
        (0, second): "expired",
        (1, by_entry[replacement["entry_id"]]): "pending",
    }
    again = await giveaways.act(giveaway, "redraw")
    assert again.status == 409  # the redrawn prize has a fresh deadline

    proof = await giveaways.proof(giveaway)
    assert [r["round"] for r in proof["rounds"]] == [0, 1]
    assert proof["rounds"][1]["eligible_entry_ids"] == sorted(set(entries.values()) - {entries[first], entries[second]})
    code, out, err = await shopcast("giveaway", "verify", "--proof", str(write_proof(tmp_path, proof)), env={})
    assert code == 0 and "redraw 1" in out, (out, err)
    winner = viewers[by_entry[replacement["entry_id"]]]
    assert (await giveaways.claim(winner, giveaway)).status == 200
    staff = await giveaways.staff_view(giveaway)
    assert [w["claim"]["email"] for w in staff["drawn_winners"] if w["status"] == "claimed"] == [
        "lea@example.com",
        "winner@example.com",
    ]
