"""Every vote and every poll change the issue lists as bad is refused with a reason, and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from tests.live_room import Viewer
from tests.polls.conftest import Join, Polls, Room, vote
from tests.problems import refused


def refusal(ack: dict[str, Any], status: int, reason: str) -> None:
    assert ack["ok"] is False, ack
    assert ack["error"]["status"] == status and reason in ack["error"]["detail"], ack


async def test_bad_votes_are_refused_with_a_reason_and_leave_the_tally_as_it_was(
    join: Join, room: Room, polls: Polls, client: Any, factory: Any, clock: Any
) -> None:
    lea = await join("Lea")
    draft = await polls.create(question="Not yet?")
    poll = await polls.open(allow_change=False)
    assert (await lea.call("poll:vote", vote(room.episode_id, poll, 0)))["ok"]
    episode, red = room.episode_id, poll["options"][0]["id"]
    cases: list[tuple[Any, dict[str, Any], int, str]] = [
        (lea, vote(episode, poll, 1), 409, "you already voted"),
        (lea, vote(episode, poll, 0), 409, "you already voted"),
        (lea, vote(episode, draft, 0), 404, f"no poll {draft['id']} in this episode"),
        (lea, {**vote(episode, poll, 0), "poll_id": str(uuid.uuid4())}, 404, "in this episode"),
        (lea, {"episode_id": episode, "poll_id": poll["id"], "option_ids": []}, 422, "option_ids"),
        (lea, {"episode_id": episode, "poll_id": poll["id"], "option_ids": ["red"]}, 422, "option_ids"),
        (lea, {"episode_id": episode, "poll_id": poll["id"]}, 422, "option_ids: Field required"),
    ]
    tom = await join("Tom")
    unknown = str(uuid.uuid4())
    cases += [
        (tom, {**vote(episode, poll, 0), "option_ids": [unknown]}, 422, f"not options of this poll: {unknown}"),
        (tom, vote(episode, poll, 0, 1), 422, "this poll takes one option"),
        (tom, {**vote(episode, poll, 0), "option_ids": [red, red]}, 422, "each option once"),
        (tom, vote(str(uuid.uuid4()), poll, 0), 409, "join the episode first"),
    ]
    anonymous = Viewer()
    await anonymous.connect(client, None)
    assert (await anonymous.call("join", {"episode_id": episode}))["ok"]
    cases.append((anonymous, vote(episode, poll, 0), 401, "join as a guest or sign in to vote"))
    try:
        for who, data, status, reason in cases:
            refusal(await who.call("poll:vote", data), status, reason)
    finally:
        await anonymous.sio.disconnect()
    timed = await polls.close(poll["id"])
    refusal(await tom.call("poll:vote", vote(episode, poll, 0)), 409, "the poll is closed")
    assert timed["result"]["voters"] == 1
    assert timed["result"]["votes"] == {red: 1, **{o["id"]: 0 for o in poll["options"][1:]}}
    # Past its countdown, a poll takes no vote, even before it is announced closed.
    countdown = await polls.open(duration_seconds=10)
    clock.advance(seconds=10)
    refusal(await tom.call("poll:vote", vote(episode, countdown, 0)), 409, "the poll is closed")
    listed = {p["id"]: p for p in await polls.listed()}
    assert listed[countdown["id"]]["tally"]["voters"] == 0
    assert listed[poll["id"]]["tally"] == {"votes": timed["result"]["votes"], "voters": 1}


async def test_another_episodes_poll_is_not_found_in_this_room(
    join: Join, room: Room, polls: Polls, client: Any, factory: Any
) -> None:
    show = await factory.show("acme", room.manager, title="Friday live", rrule="FREQ=WEEKLY;BYDAY=FR")
    other = (await factory.episodes(show["id"], room.manager))[0]["id"]
    started = await client.post(f"/api/v1/episodes/{other}/start", headers=room.host.headers)
    assert started.status == 200, await started.text()
    there = await client.post(
        f"/api/v1/episodes/{other}/polls", json={"question": "Elsewhere?", "options": [{"label": "a"}, {"label": "b"}]},
        headers=room.host.headers,
    )  # fmt: skip
    elsewhere = await there.json()
    assert (await polls.act(elsewhere["id"], "open")).status == 200
    lea = await join("Lea")
    refusal(await lea.call("poll:vote", vote(room.episode_id, elsewhere, 0)), 404, "in this episode")
    refusal(await lea.call("poll:vote", vote(other, elsewhere, 0)), 409, "join the episode first")
    here = await polls.open()  # one open poll per episode, not per brand
    assert (await lea.call("poll:vote", vote(room.episode_id, here, 0)))["ok"]


async def test_bad_polls_and_moves_are_refused_and_write_nothing(
    room: Room, polls: Polls, client: Any, factory: Any
) -> None:
    two = [{"label": "a"}, {"label": "b"}]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"options": [{"label": "a"}]}, "options: List should have at least 2 items"),
        ({"options": [{"label": str(n)} for n in range(7)]}, "options: List should have at most 6 items"),
        ({"question": "  "}, "question: String should have at least 1 character"),
        ({"question": "x" * 201}, "question: String should have at most 200 characters"),
        ({"options": [{"label": "a"}, {}]}, "an option needs a label or a product_id"),
        ({"options": [*two[:1], {"label": "x" * 81}]}, "at most 80 characters"),
        ({"quiz": True}, "correct_options: a quiz needs its right answer"),
        ({"quiz": True, "correct_options": [0, 1]}, "a single-choice quiz has one right option"),
        ({"quiz": True, "correct_options": [5]}, "each an index of options"),
        ({"correct_options": [0]}, "only a quiz has correct options"),
        ({"duration_seconds": 5}, "duration_seconds: Input should be greater than or equal to 10"),
        ({"duration_seconds": 3601}, "duration_seconds: Input should be less than or equal to 3600"),
        ({"options": [*two[:1], {"product_id": str(uuid.uuid4())}]}, "not products of this episode's lineup"),
    ]
    for fields, reason in bad:
        body = {"question": "Which?", "options": two, **fields}
        await refused(await client.post(room.path("/polls"), json=body, headers=room.host.headers), 422, reason)
    assert await polls.listed() == []

    first, second = await polls.create(), await polls.create(question="Then?")
    await refused(await polls.act(first["id"], "close"), 409, "the poll is not open")
    opened = await polls.act(first["id"], "open")
    assert opened.status == 200
    await refused(await polls.act(first["id"], "open"), 409, "the poll is open: only a draft can be opened")
    await refused(await polls.act(second["id"], "open"), 409, "another poll is open in this episode: close it first")
    patch = await client.patch(f"/api/v1/polls/{first['id']}", json={"question": "x"}, headers=room.host.headers)
    await refused(patch, 409, "the poll is open: only a draft can be changed or deleted")
    deleted = await client.delete(f"/api/v1/polls/{first['id']}", headers=room.host.headers)
    await refused(deleted, 409, "only a draft can be changed or deleted")
    await polls.close(first["id"])
    await refused(await polls.act(first["id"], "close"), 409, "the poll is already closed")
    await refused(await client.get(f"/api/v1/public/polls/{second['id']}"), 404, f"no poll {second['id']}")
    bad_patch = await client.patch(f"/api/v1/polls/{second['id']}", json={"quiz": True}, headers=room.host.headers)
    await refused(bad_patch, 422, "a quiz needs its right answer")
    statuses = {p["id"]: (p["status"], p["question"]) for p in await polls.listed()}
    assert statuses == {first["id"]: ("closed", "Which colour next?"), second["id"]: ("draft", "Then?")}

    await client.post(room.path("/end"), headers=room.host.headers)
    await refused(await polls.act(second["id"], "open"), 409, "the episode is ended: polls open during the live")
    late = await client.post(room.path("/polls"), json={"question": "?", "options": two}, headers=room.host.headers)
    await refused(late, 409, "the episode is ended")


async def test_a_draft_is_changed_then_deleted(room: Room, polls: Polls, client: Any) -> None:
    draft = await polls.create()
    path, headers = f"/api/v1/polls/{draft['id']}", room.moderator.headers
    quiz = {
        "options": [{"label": "Yes"}, {"label": "No"}],
        "quiz": True,
        "correct_options": [0],
        "duration_seconds": 30,
    }
    changed = await client.patch(path, json=quiz, headers=headers)
    body = await changed.json()
    assert changed.status == 200, body
    assert [o["label"] for o in body["options"]] == ["Yes", "No"] and body["question"] == draft["question"]
    assert body["correct_option_ids"] == [body["options"][0]["id"]] and body["duration_seconds"] == 30
    assert (await client.delete(path, headers=headers)).status == 204
    assert await polls.listed() == []
