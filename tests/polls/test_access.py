"""Polls are the brand's: only its managers, hosts and moderators write, open and close them, on the
episode's brand; anyone with a viewer identity votes, and only in the room of the poll's episode."""

from __future__ import annotations

from typing import Any

from tests.factories import Staff
from tests.polls.conftest import Join, Polls, Room, vote
from tests.problems import refused


async def test_only_the_brands_staff_handle_its_polls(room: Room, polls: Polls, client: Any, factory: Any) -> None:
    await factory.brand("globex")
    outsiders = {role: await factory.staff("globex", role) for role in ("manager", "host", "moderator")}
    guest = await factory.guest("Lea")
    draft = await polls.create()
    body = {"question": "Which?", "options": [{"label": "a"}, {"label": "b"}]}
    requests = [
        ("POST", room.path("/polls"), body),
        ("GET", room.path("/polls"), None),
        ("PATCH", f"/api/v1/polls/{draft['id']}", {"question": "Changed?"}),
        ("POST", f"/api/v1/polls/{draft['id']}/open", None),
        ("POST", f"/api/v1/polls/{draft['id']}/close", None),
        ("DELETE", f"/api/v1/polls/{draft['id']}", None),
    ]
    refusals: list[tuple[dict[str, str], int, str]] = [
        ({}, 401, "this needs a bearer token: sign in first"),
        (guest, 403, "guests cannot do this: sign in with a staff account"),
        *((o.headers, 403, "you have no role in this brand") for o in outsiders.values()),
    ]
    for method, path, data in requests:
        for headers, status, reason in refusals:
            response = await client.request(method, path, json=data, headers=headers)
            await refused(response, status, reason)
    assert [(p["id"], p["status"], p["question"]) for p in await polls.listed()] == [
        (draft["id"], "draft", draft["question"])
    ]

    # Each of the brand's roles may do each step.
    staff: list[Staff] = [room.manager, room.host, room.moderator]
    for who in staff:
        poll = await polls.create(staff=who, question=f"Asked by {who.email}?")
        assert (await client.get(room.path("/polls"), headers=who.headers)).status == 200
        patched = await client.patch(f"/api/v1/polls/{poll['id']}", json={"multiple": True}, headers=who.headers)
        assert patched.status == 200, await patched.text()
        assert (await polls.act(poll["id"], "open", who)).status == 200
        assert (await polls.act(poll["id"], "close", who)).status == 200
    spare = await polls.create(staff=room.moderator)
    assert (await client.delete(f"/api/v1/polls/{spare['id']}", headers=room.manager.headers)).status == 204


async def test_staff_of_another_brand_vote_as_viewers_and_only_in_the_polls_room(
    join: Join, room: Room, polls: Polls, client: Any, factory: Any
) -> None:
    await factory.brand("globex")
    rival_host = await factory.staff("globex", "host")
    poll = await polls.open()
    visitor = await join(rival_host)  # in acme's room they are a viewer like any other
    assert visitor.ack["snapshot"]["you"]["role"] == "viewer"
    assert (await visitor.call("poll:vote", vote(room.episode_id, poll, 0)))["ok"]
    # Their own brand's poll, sent in acme's room: not found here.
    show = await factory.show("globex", await factory.staff("globex", "manager"))
    globex_episode = (await factory.episodes(show["id"], rival_host))[0]["id"]
    assert (await client.post(f"/api/v1/episodes/{globex_episode}/start", headers=rival_host.headers)).status == 200
    theirs = await client.post(
        f"/api/v1/episodes/{globex_episode}/polls",
        json={"question": "Ours?", "options": [{"label": "a"}, {"label": "b"}]}, headers=rival_host.headers,
    )  # fmt: skip
    theirs_poll = await theirs.json()
    assert (await client.post(f"/api/v1/polls/{theirs_poll['id']}/open", headers=rival_host.headers)).status == 200
    ack = await visitor.call("poll:vote", vote(room.episode_id, theirs_poll, 0))
    assert ack["ok"] is False and ack["error"]["status"] == 404, ack
    # And acme's host cannot open or close globex's poll.
    await refused(await polls.act(theirs_poll["id"], "close"), 403, "you have no role in this brand")
    assert (await polls.listed())[0]["tally"]["voters"] == 1
