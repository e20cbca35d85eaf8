"""The episode's giveaways as anyone sees them after the show: the ones that opened, each with its
commitment and, once drawn, its seed and rounds, so the replay page can show every draw's proof and
reveal its winners' entries at the moment they were drawn.
Drafts and other episodes' giveaways are not listed, and no entrant's name or claim is."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import SettableClock
from tests.contests.conftest import Giveaways, Join, Room
from tests.factories import Factory


async def listed(client: Any, episode_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/public/episodes/{episode_id}/giveaways")
    assert response.status == 200, await response.text()
    return await response.json()


async def test_anyone_lists_the_opened_giveaways_of_an_episode_with_what_checks_their_draws(
    client: Any, clock: SettableClock, factory: Factory, giveaways: Giveaways, join: Join, room: Room
) -> None:
    lea, tom = await join("Lea Martin"), await join("Tom")
    drawn = await giveaways.opened(winners=1)
    entries = {"lea": await giveaways.enter(lea, drawn), "tom": await giveaways.enter(tom, drawn)}
    await giveaways.done(drawn, "close")
    await giveaways.done(drawn, "draw")
    await lea.wait_for("giveaway:drawn")
    lucky = lea if (await giveaways.me(lea, drawn))["won"] else tom
    winner = entries["lea" if lucky is lea else "tom"]
    address = {"name": "Lea Martin", "address_line": "3 rue Oberkampf", "postal_code": "75011", "city": "Paris"}
    claimed = await giveaways.claim(lucky, drawn, email="winner@example.com", delivery={**address, "country": "fr"})
    assert claimed.status == 200, await claimed.text()
    clock.advance(minutes=5)
    taking = await giveaways.opened(prize={**drawn["prize"], "title": "The wool hat"})
    draft = await giveaways.prepare(prize={**drawn["prize"], "title": "A secret prize"})

    # Another show's live episode has its own giveaway: not in this episode's list.
    show = await factory.show("acme", room.manager, title="Another show")
    other = (await factory.episodes(show["id"], room.manager))[0]["id"]
    started = await client.post(f"/api/v1/episodes/{other}/start", headers=room.host.headers)
    assert started.status == 200, await started.text()
    response = await client.post(
        f"/api/v1/episodes/{other}/giveaways",
        json={k: drawn[k] for k in ("prize", "winners", "rules", "entry", "eligibility")},
        headers=room.manager.headers,
    )
    assert response.status == 201, await response.text()
    elsewhere = await response.json()
    assert (await giveaways.act(elsewhere, "open")).status == 200

    # The show ends: the list stays, for the replay.
    ended = await client.post(room.path("/end"), headers=room.host.headers)
    assert ended.status == 200, await ended.text()
    public = await listed(client, room.episode_id)
    assert [g["id"] for g in public] == [drawn["id"], taking["id"]]
    assert draft["id"] not in str(public) and elsewhere["id"] not in str(public)
    first, second = public
    proof = await giveaways.proof(drawn)
    assert first["status"] == "drawn" and first["entries"] == 2 and first["rounds"] == 1
    assert first["seed"] == proof["seed"] and first["commitment"] == proof["commitment"]
    assert first["prize"]["title"] == "The silk scarf" and first["winners"] == 1 and first["entry"] == "button"
    assert first["rules"] == drawn["rules"] and first["episode_id"] == room.episode_id
    assert first["drawn_at"] is not None and first["opened_at"] is not None and first["closed_at"] is not None
    # The replay reveals each round at its moment: the entries it picked (as in the proof), not names.
    assert first["draws"] == [{"round": 0, "at": first["drawn_at"], "eligible": 2, "winners": [winner]}]
    assert second["status"] == "open" and second["seed"] is None and second["rounds"] == 0
    assert second["draws"] == [] and second["closed_at"] is None
    assert second["commitment"] and second["entries"] == 0
    body = str(public)
    for personal in ("Lea Martin", "Tom", "winner@example.com", "Oberkampf", "drawn_winners", "claim"):
        assert personal not in body
    assert [g["id"] for g in await listed(client, other)] == [elsewhere["id"]]


async def test_an_episode_without_opened_giveaways_lists_none_and_an_unknown_one_is_404(
    client: Any, giveaways: Giveaways, room: Room
) -> None:
    await giveaways.prepare()
    assert await listed(client, room.episode_id) == []
    missing = await client.get(f"/api/v1/public/episodes/{uuid.uuid4()}/giveaways")
    assert missing.status == 404
