"""An episode's polls as the replay shows them: each opened one with when it opened and closed and its
result at close, for anyone; drafts and other episodes' polls are not listed."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import SettableClock
from tests.polls.conftest import Join, Polls, Room, vote


async def listed(client: Any, episode_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/public/episodes/{episode_id}/polls")
    assert response.status == 200, await response.text()
    return await response.json()


async def test_anyone_lists_the_opened_polls_of_an_episode_with_their_times_and_results(
    client: Any, clock: SettableClock, join: Join, room: Room, polls: Polls
) -> None:
    lea = await join("Lea")
    quiz = await polls.open(quiz=True, correct_options=[2])
    assert (await lea.call("poll:vote", vote(room.episode_id, quiz, 2)))["ok"]
    clock.advance(seconds=40)
    await polls.close(quiz["id"])
    await lea.wait_for("poll:closed")
    clock.advance(minutes=3)
    open_one = await polls.open(question="Sand or navy?", options=[{"label": "Sand"}, {"label": "Navy"}])
    await polls.create(question="A draft nobody saw")

    # While the show is on, the open poll is listed without a result (its tally is the room's).
    assert [p["id"] for p in await listed(client, room.episode_id)] == [quiz["id"], open_one["id"]]

    ended = await client.post(room.path("/end"), headers=room.host.headers)
    assert ended.status == 200, await ended.text()
    await lea.wait_for("poll:closed")  # the end of the live closes the open poll
    first, second = await listed(client, room.episode_id)
    green = quiz["options"][2]["id"]
    assert first["question"] == "Which colour next?" and first["status"] == "closed" and first["quiz"]
    assert first["opened_at"] == quiz["opened_at"]
    opened, closed = (clock.at.fromisoformat(first[k]) for k in ("opened_at", "closed_at"))
    assert (closed - opened).total_seconds() == 40
    assert first["result"]["votes"][green] == 1 and first["result"]["voters"] == 1
    assert first["result"]["correct_option_ids"] == [green] and first["result"]["correct_share"] == 1
    assert second["question"] == "Sand or navy?" and second["status"] == "closed"
    assert second["closed_at"] is not None and second["result"]["voters"] == 0
    assert "A draft nobody saw" not in str(await listed(client, room.episode_id))
    # Nothing of who voted.
    assert "voter" not in str(first.keys()) and "my_vote" not in first


async def test_another_episode_s_polls_are_not_mixed_in_and_an_unknown_episode_is_404(
    client: Any, factory: Any, room: Room, polls: Polls
) -> None:
    await polls.open()
    show = await factory.show("acme", room.manager, title="Another show")
    other = (await factory.episodes(show["id"], room.manager))[0]["id"]
    assert await listed(client, other) == []
    assert len(await listed(client, room.episode_id)) == 1
    missing = await client.get(f"/api/v1/public/episodes/{uuid.uuid4()}/polls")
    assert missing.status == 404
