"""Votes through two `shopcast serve` processes sharing PostgreSQL and Redis: one exact tally, told
at most four times a second in all, and one close when the countdown ends."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.chat.test_two_nodes import Node, api, nodes, open_episode  # noqa: F401  (the two processes)
from tests.live_room import Viewer
from tests.polls.conftest import VIEWERS, vote

DURATION = 20  # seconds: long enough for every vote on a loaded machine, short enough to wait for


@pytest.fixture
def node_environment() -> dict[str, str]:
    return {"SHOPCAST_GUEST_MAX_PER_WINDOW": str(VIEWERS + 50)}


async def test_votes_through_two_processes_give_one_exact_tally_and_one_close(nodes: list[Node]) -> None:  # noqa: F811
    a, b = (node.url for node in nodes)
    episode_id, tokens = await open_episode(a, b)
    viewers: list[Viewer] = []

    async def connect(url: str, token: str) -> Viewer:
        viewer = Viewer()
        viewers.append(viewer)
        await viewer.connect(url, token)
        viewer.ack = await viewer.call("join", {"episode_id": episode_id})
        assert viewer.ack["ok"], viewer.ack
        return viewer

    try:
        async with aiohttp.ClientSession() as http:
            guests = [
                (await api(http, "POST", f"{a}/api/v1/auth/guest", nickname=f"Viewer {n}"))["token"]
                for n in range(VIEWERS)
            ]
            watchers = [await connect(a, tokens["Lea"]), await connect(b, tokens["Tom"])]
            crowd = [await connect(a if n % 2 else b, token) for n, token in enumerate(guests)]
            body = {
                "question": "Which colour next?",
                "options": [{"label": "Red"}, {"label": "Blue"}, {"label": "Green"}],
                "duration_seconds": DURATION,
            }
            draft = await api(http, "POST", f"{a}/api/v1/episodes/{episode_id}/polls", tokens["moderator"], **body)
            poll = await api(http, "POST", f"{b}/api/v1/polls/{draft['id']}/open", tokens["moderator"])
        opened_at = time.monotonic()
        acks = await asyncio.gather(*(v.call("poll:vote", vote(episode_id, poll, n % 3)) for n, v in enumerate(crowd)))
        assert all(ack["ok"] for ack in acks), [ack for ack in acks if not ack["ok"]][:3]
        expected = {o["id"]: sum(1 for n in range(VIEWERS) if n % 3 == i) for i, o in enumerate(poll["options"])}
        for watcher in watchers:  # each process's viewers hear the exact tally, whoever counted it
            await watcher.wait_for("poll:tally", votes=expected, voters=VIEWERS)
        told = watchers[0].events("poll:tally")
        seconds = time.monotonic() - opened_at
        assert len(told) <= 4 * seconds + 2, (len(told), seconds)
        await asyncio.sleep(max(0.0, DURATION - (time.monotonic() - opened_at)))
        for watcher in watchers:
            closed = await watcher.wait_for("poll:closed")
            assert closed["result"]["votes"] == expected and closed["result"]["voters"] == VIEWERS
        await watchers[0].settle()
        assert len(watchers[0].events("poll:closed")) == 1  # closed once, though both processes tick
    finally:
        for viewer in viewers:
            await viewer.sio.disconnect()
