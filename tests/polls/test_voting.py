"""Voting in the live room: tallies, results, the snapshot and every refusal, through real clients."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.live_room import Viewer
from tests.polls.conftest import VIEWERS, Join, Polls, Room, vote


async def test_a_poll_opens_to_the_room_and_its_votes_are_tallied(join: Join, room: Room, polls: Polls) -> None:
    lea, tom = await join("Lea"), await join("Tom")
    poll = await polls.open()
    opened = await tom.wait_for("poll:opened")
    assert opened["poll"]["id"] == poll["id"] and opened["seq"] > tom.ack["seq"]
    assert "correct_option_ids" not in opened["poll"] and "tally" not in opened["poll"]
    ack = await lea.call("poll:vote", vote(room.episode_id, poll, 1))
    assert ack == {"ok": True, "vote": {"poll_id": poll["id"], "option_ids": [poll["options"][1]["id"]]}}
    blue = poll["options"][1]["id"]
    tally = await tom.wait_for("poll:tally", voters=1)
    assert tally["poll_id"] == poll["id"] and tally["votes"][blue] == 1 and sum(tally["votes"].values()) == 1
    # Changing the vote (allowed by default) moves it, still one voter.
    assert (await lea.call("poll:vote", vote(room.episode_id, poll, 2)))["ok"]
    green = poll["options"][2]["id"]
    await tom.wait_for("poll:tally", votes={**tally["votes"], blue: 0, green: 1})
    late = await join("Zoe")
    shown = late.ack["snapshot"]["poll"]
    assert shown["id"] == poll["id"] and shown["status"] == "open" and shown["my_vote"] is None
    assert shown["tally"]["voters"] == 1 and shown["result"] is None
    again = await lea.call("join", {"episode_id": room.episode_id})
    assert again["snapshot"]["poll"]["my_vote"] == [green]
    closed = await polls.close(poll["id"])
    heard = await tom.wait_for("poll:closed")
    assert heard["result"]["votes"][green] == 1 and heard["result"]["voters"] == 1
    assert heard["result"]["correct_option_ids"] is None and heard["result"]["correct_share"] is None
    assert heard["poll"]["status"] == "closed" and closed["result"] == heard["result"]
    assert (await join("Max")).ack["snapshot"]["poll"]["result"] == heard["result"]


async def test_two_hundred_viewers_give_an_exact_tally_at_a_bounded_rate(
    join: Join, room: Room, polls: Polls, client: Any
) -> None:
    watcher = await join("Watcher")
    poll = await polls.open(multiple=True)
    viewers = [await join(f"Viewer {n}") for n in range(VIEWERS)]
    started = time.monotonic()
    # Viewer n picks option n % 3, and every fifth one also the next option.
    picks = [[n % 3, (n + 1) % 3] if n % 5 == 0 else [n % 3] for n in range(VIEWERS)]
    acks = await asyncio.gather(
        *(v.call("poll:vote", vote(room.episode_id, poll, *p)) for v, p in zip(viewers, picks, strict=True))
    )
    assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]][:3]
    expected = {o["id"]: sum(i in p for p in picks) for i, o in enumerate(poll["options"])}
    final = await watcher.wait_for("poll:tally", votes=expected, voters=VIEWERS)
    elapsed = time.monotonic() - started
    tallies = watcher.events("poll:tally")
    assert len(tallies) <= 4 * elapsed + 2, (len(tallies), elapsed)  # never one per vote
    assert final["voters"] == VIEWERS
    closed = await polls.close(poll["id"])
    assert closed["result"]["votes"] == expected and closed["result"]["voters"] == VIEWERS
    assert (await polls.listed())[0]["result"]["votes"] == expected


async def test_a_quiz_reveals_its_answer_and_the_share_who_got_it_at_close(
    join: Join, room: Room, polls: Polls, client: Any
) -> None:
    viewers = [await join(f"Player {n}") for n in range(4)]
    poll = await polls.open(quiz=True, correct_options=[2])
    public = await (await client.get(f"/api/v1/public/polls/{poll['id']}")).json()
    assert "correct_option_ids" not in public and public["result"] is None
    assert "correct_option_ids" not in viewers[0].ack["snapshot"] or viewers[0].ack["snapshot"]["poll"] is None
    for viewer, choice in zip(viewers, [2, 2, 2, 0], strict=True):
        assert (await viewer.call("poll:vote", vote(room.episode_id, poll, choice)))["ok"]
    await polls.close(poll["id"])
    closed = await viewers[0].wait_for("poll:closed")
    assert closed["result"]["correct_option_ids"] == [poll["options"][2]["id"]]
    assert closed["result"]["correct_share"] == 0.75
    public = await (await client.get(f"/api/v1/public/polls/{poll['id']}")).json()
    assert public["result"] == closed["result"]


async def test_votes_racing_the_close_are_either_in_the_result_or_refused(join: Join, room: Room, polls: Polls) -> None:
    poll = await polls.open()
    viewers = [await join(f"Racer {n}") for n in range(60)]
    calls = [
        asyncio.ensure_future(v.call("poll:vote", vote(room.episode_id, poll, n % 3))) for n, v in enumerate(viewers)
    ]
    await asyncio.sleep(0.05)  # some votes in, some on their way
    closed = await polls.close(poll["id"])
    acks = await asyncio.gather(*calls)
    taken = [n for n, ack in enumerate(acks) if ack["ok"]]
    for ack in acks:
        assert ack["ok"] or (ack["error"]["status"], ack["error"]["detail"]) == (409, "the poll is closed"), ack
    expected = {o["id"]: sum(1 for n in taken if n % 3 == i) for i, o in enumerate(poll["options"])}
    assert closed["result"]["votes"] == expected and closed["result"]["voters"] == len(taken)
    assert (await polls.listed())[0]["tally"] == {"votes": expected, "voters": len(taken)}


async def test_two_taps_at_once_count_once(join: Join, room: Room, polls: Polls, client: Any) -> None:
    lea = await join("Lea")
    second_tab = Viewer()  # Lea again, on another connection
    await second_tab.connect(client, lea.token)
    try:
        assert (await second_tab.call("join", {"episode_id": room.episode_id}))["ok"]
        poll = await polls.open(allow_change=False)
        taps = [
            lea.call("poll:vote", vote(room.episode_id, poll, 0)),
            second_tab.call("poll:vote", vote(room.episode_id, poll, 1)),
        ]
        acks = await asyncio.gather(*taps)
    finally:
        await second_tab.sio.disconnect()
    assert sorted(ack["ok"] for ack in acks) == [False, True], acks
    refused = next(ack for ack in acks if not ack["ok"])
    assert refused["error"]["status"] == 409 and refused["error"]["detail"] == "you already voted"
    assert (await polls.listed())[0]["tally"]["voters"] == 1


async def test_two_opens_at_once_open_one_poll(room: Room, polls: Polls) -> None:
    drafts = [await polls.create(question=f"Poll {n}?") for n in range(2)]
    responses = await asyncio.gather(*(polls.act(d["id"], "open") for d in drafts))
    assert sorted(r.status for r in responses) == [200, 409]
    assert sorted(p["status"] for p in await polls.listed()) == ["draft", "open"]


async def test_a_multiple_choice_quiz_counts_right_only_the_exact_answer(join: Join, room: Room, polls: Polls) -> None:
    players = [await join(f"Player {n}") for n in range(4)]
    poll = await polls.open(quiz=True, multiple=True, correct_options=[0, 2])
    # Exactly right, right plus a wrong one, half right, and right in another order.
    for player, picks in zip(players, [(0, 2), (0, 1, 2), (2,), (2, 0)], strict=True):
        assert (await player.call("poll:vote", vote(room.episode_id, poll, *picks)))["ok"]
    closed = await polls.close(poll["id"])
    assert sorted(closed["result"]["correct_option_ids"]) == sorted([poll["options"][i]["id"] for i in (0, 2)])
    assert closed["result"]["correct_share"] == 0.5 and closed["result"]["voters"] == 4


async def test_a_crowd_voting_at_once_counts_its_good_votes_and_changes_and_refuses_the_bad_alone(
    join: Join, room: Room, polls: Polls
) -> None:
    # Votes arriving together are written together: one viewer's bad vote must not refuse the
    # others sent with it, and a viewer changing their vote twice at once ends with the last one.
    crowd = [await join(f"Viewer {n}") for n in range(24)]
    poll = await polls.open(allow_change=True)
    episode, options = room.episode_id, [o["id"] for o in poll["options"]]
    bad = {**vote(episode, poll, 0), "option_ids": [options[0], options[0]]}
    firsts = await asyncio.gather(
        *(v.call("poll:vote", bad if n % 6 == 5 else vote(episode, poll, n % 3)) for n, v in enumerate(crowd))
    )
    for n, ack in enumerate(firsts):
        if n % 6 == 5:
            assert not ack["ok"] and ack["error"]["detail"] == "option_ids: each option once", ack
        else:
            assert ack["ok"] and ack["vote"]["option_ids"] == [options[n % 3]], ack
    # Everyone who voted moves to the next option, sending it twice at once (two taps).
    voted = [(n, v) for n, v in enumerate(crowd) if n % 6 != 5]
    changes = await asyncio.gather(
        *(v.call("poll:vote", vote(episode, poll, (n + 1) % 3)) for n, v in voted for _ in range(2))
    )
    assert all(ack["ok"] for ack in changes), changes
    closed = await polls.close(poll["id"])
    expected = {o: sum(1 for n, _ in voted if (n + 1) % 3 == i) for i, o in enumerate(options)}
    assert closed["result"]["votes"] == expected and closed["result"]["voters"] == len(voted)
