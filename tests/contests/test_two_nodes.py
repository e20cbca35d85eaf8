"""A giveaway across two `shopcast serve` processes (PostgreSQL + Redis): entries on either count
once and reach both, viewers on either are present at the draw, the reveal reaches both alike."""

from __future__ import annotations

import aiohttp

from tests.chat.test_two_nodes import Node, api, nodes, open_episode  # noqa: F401  (two processes)
from tests.contests.conftest import SCARF
from tests.live_room import Viewer


async def test_entries_on_two_processes_count_once_and_the_reveal_reaches_both(nodes: list[Node]) -> None:  # noqa: F811
    a, b = (node.url for node in nodes)
    episode_id, tokens = await open_episode(a)
    lea, tom = Viewer(), Viewer()
    try:
        await lea.connect(a, tokens["Lea"])
        await tom.connect(b, tokens["Tom"])
        for viewer in (lea, tom):
            assert (await viewer.call("join", {"episode_id": episode_id}))["ok"]
        async with aiohttp.ClientSession() as http:
            made = await api(
                http, "POST", f"{a}/api/v1/episodes/{episode_id}/giveaways", tokens["manager"],
                **{**SCARF, "winners": 2, "entry": "keyword", "keyword": "scarf"},
            )  # fmt: skip
            opened = await api(http, "POST", f"{b}/api/v1/giveaways/{made['id']}/open", tokens["manager"])
            assert (await lea.wait_for("giveaway:opened"))["giveaway"]["commitment"] == opened["commitment"]
            ack = await lea.call("giveaway:enter", {"episode_id": episode_id, "giveaway_id": made["id"]})
            by_keyword = await tom.call("chat:send", {"episode_id": episode_id, "text": "Scarf"})
            assert ack["ok"] and by_keyword["ok"], (ack, by_keyword)
            entries = {ack["entry"]["id"], by_keyword["entry"]["id"]}
            for viewer in (lea, tom):
                await viewer.wait_for("giveaway:entries", entries=2)
            await api(http, "POST", f"{a}/api/v1/giveaways/{made['id']}/close", tokens["manager"])
            await api(http, "POST", f"{b}/api/v1/giveaways/{made['id']}/draw", tokens["manager"])
            seen_a, seen_b = await lea.wait_for("giveaway:drawn"), await tom.wait_for("giveaway:drawn")
            assert seen_a == seen_b and seen_a["eligible"] == 2  # both present, each on its own process
            assert {w["entry_id"] for w in seen_a["winners"]} == entries
            proof = await api(http, "GET", f"{a}/api/v1/public/giveaways/{made['id']}/proof")
            assert proof["rounds"][0]["eligible_entry_ids"] == sorted(entries)
    finally:
        await lea.sio.disconnect()
        await tom.sio.disconnect()
