"""No viewer turned away at 19:00 (issue 19): the server refuses the watch page's join as busy, the
page says so ("Lots of viewers arriving, joining…") and joins again by itself, then shows the chat;
after a lost connection, refused again on its way back, it still gets exactly what it missed.

The rush is made honestly: the server answers one join at a time (SHOPCAST_JOIN_QUEUE_MOST=1) and has
one database connection, which the test holds, so that another viewer's join waits in the line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Route, expect

from tests.live_room import Viewer, assert_busy, database_taken, line_filled, send

from .conftest import LiveServer, OpenContext, coming_episodes, demo_server, watched_page
from .test_live_chat import message

pytestmark = pytest.mark.browser

JOINING = "Lots of viewers arriving, joining…"


async def guest_in_room(server: LiveServer, episode_id: str) -> Viewer:
    """A guest with a nickname, in the episode's room, to chat."""
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/api/v1/auth/guest", json={"nickname": "Lea"}) as response:
            assert response.status in (200, 201), await response.text()
            token = (await response.json())["token"]
    lea = Viewer()
    await lea.connect(server.url, token)
    assert (await lea.call("join", {"episode_id": episode_id}))["ok"]
    return lea


async def joins_held_back(server: LiveServer, episode_id: str) -> list[Viewer]:
    """Fill the server's line while its database is taken; returns the viewers it took (to disconnect)."""
    refused, error, waiting, _ = await line_filled(server.url, episode_id)
    assert_busy(error)
    return [refused, waiting]


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The demo server in its rush: one join answered at a time, one database connection (the test's to
    hold), and the join snapshot read for every join (a join then needs the database)."""
    async with demo_server(tmp_path, join_queue_most=1, database_pool_size=1, join_snapshot_seconds=0) as server:
        yield server


async def test_a_viewer_refused_as_busy_is_told_so_joins_again_and_sees_the_chat(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]  # scheduled: its chat is open
    lea = await guest_in_room(live_server, episode_id)
    others: list[Viewer] = [lea]
    try:
        await send(lea, episode_id, "Welcome everyone!")
        viewer = await watched_page(await open_context("viewer", viewport={"width": 1280, "height": 900}))
        page = viewer.page

        # The page joins the room once it has read the episode: that answer is held back until
        # the server is in its rush, so the page's first join arrives in it.
        episode_read, rush_on = asyncio.Event(), asyncio.Event()

        async def in_the_rush(route: Route) -> None:
            response = await route.fetch()
            episode_read.set()
            await rush_on.wait()
            await route.fulfill(response=response)

        await page.route(f"{live_server.url}/api/v1/public/episodes/{episode_id}", in_the_rush, times=1)
        await page.goto(f"{live_server.url}/watch/{episode_id}")
        await asyncio.wait_for(episode_read.wait(), 10)
        async with database_taken(live_server.app):
            others += await joins_held_back(live_server, episode_id)
            rush_on.set()
            await expect(page.get_by_test_id("chat-status")).to_have_text(JOINING)
        # The rush over, the page is let in on one of its next tries: the chat is there.
        await expect(page.get_by_test_id("chat-status")).to_be_hidden()
        await expect(message(page, "Welcome everyone!")).to_have_count(1)

        # Its connection drops; back in the next rush, it is refused, then gets what it missed.
        await page.evaluate("window.shopcastWatch.room.socket.disconnect()")
        missed = [f"while you were away {n}" for n in range(2)]
        for text in missed:
            await send(lea, episode_id, text)
        async with database_taken(live_server.app):
            others += await joins_held_back(live_server, episode_id)
            await page.evaluate("window.shopcastWatch.room.socket.connect()")
            await expect(page.get_by_test_id("chat-status")).to_have_text(JOINING)
        await expect(page.get_by_test_id("chat-status")).to_be_hidden()
        await expect(message(page, "while you were away")).to_have_count(2)
        await send(lea, episode_id, "and after")
        await expect(message(page, "and after")).to_have_count(1)
        texts = await page.get_by_test_id("chat-text").all_inner_texts()
        assert texts == ["Welcome everyone!", *missed, "and after"]
        viewer.console.assert_clean()
    finally:
        for other in others:
            await other.sio.disconnect()
