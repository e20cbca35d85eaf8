"""The shoppable replay in real browsers: a show goes live from the studio with the fake camera, the
host pins two products (the first as a flash deal), viewers chat (a moderator deletes a message), vote
in a poll and enter a giveaway, the show ends. Then a viewer on a phone opens the replay: a tap on a
product of the timeline plays the moment it was shown, its card is over the video at today's price,
and the viewer buys it; the order is the episode's, placed after the live ended (a replay sale). The
chat, the poll and the draw play in step with the video, `?t=` starts the replay at a second inside
it (else at 0), and the page passes axe on a phone and a laptop, in English and in French. While the
replay plays, its player beats: the episode's report counts the phone's viewer as the replay's one
viewer, who bought, and the cards they saw over the replay.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from shopcast import demo
from shopcast.core.db import Database, create_engine
from tests.live_room import Viewer, send

from .accessibility import blocking_violations
from .conftest import (
    BrowserPage,
    LiveServer,
    OpenContext,
    coming_episodes,
    demo_server,
    open_card,
    watched_page,
)
from .test_live_shopping import PHONE, StaffApi
from .test_live_video import end_show, go_live, open_studio
from .test_polls_giveaways import GIVEAWAY

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
DATES = re.compile(r"^#EXT-X-PROGRAM-DATE-TIME:(\S+)$", re.M)

CURRENT_TIME = "() => document.querySelector('[data-testid=video]').currentTime"
# Where the replay is, paused there: what the viewer sees at that second.
SEEK = """async (time) => {
  const video = document.querySelector('[data-testid=video]');
  video.pause();
  video.currentTime = time;
  await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
}"""


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The demo server, the replay's players beating every second (a short replay is counted in full)."""
    async with demo_server(tmp_path, replay_beat_seconds=1) as server:
        yield server


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def chat_member(server: LiveServer, episode_id: str, token: str) -> Viewer:
    """A Socket.IO client in the episode's room with this token."""
    member = Viewer()
    await member.connect(server.url, token)
    ack = await member.call("join", {"episode_id": episode_id})
    assert ack["ok"], ack
    return member


async def recorded(http: aiohttp.ClientSession, episode_id: str, *, segments: int = 0, ended: bool = False) -> str:
    """The episode's playlist once it has `segments` segments (and is finished and dated, if `ended`)."""
    async with asyncio.timeout(40):
        while True:
            async with http.get(f"/live/{episode_id}/hls/index.m3u8") as response:
                playlist = await response.text() if response.status == 200 else ""
            done = "#EXT-X-ENDLIST" in playlist and DATES.search(playlist) if ended else True
            if playlist.count(".ts\n") >= segments and done:
                return playlist
            await asyncio.sleep(0.3)


async def replay_at(page: Page, time: float) -> None:
    await page.evaluate(SEEK, time)


async def chat_texts(page: Page) -> list[str]:
    return await page.get_by_test_id("chat-messages").get_by_test_id("chat-text").all_text_contents()


async def test_a_viewer_on_a_phone_shops_the_replay_from_its_timeline(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    studio, studio_console = browser_page.page, browser_page.console
    episode_id = (await coming_episodes(live_server))[0]["id"]
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        manager = await StaffApi.sign_in(http, "manager@demo.shopcast.test")
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        dress, cashmere, _tote = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup")

        # The live: the host on camera, a viewer and the host in the room's chat.
        await open_studio(studio, live_server, episode_id)
        await go_live(studio, episode_id)
        async with http.post("/api/v1/auth/guest", json={"nickname": "Lea"}) as response:
            lea = await chat_member(live_server, episode_id, (await response.json())["token"])
        moderator = await chat_member(live_server, episode_id, host.headers["Authorization"][7:])
        await recorded(http, episode_id, segments=2)

        dress_pin = await host.call(
            "POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": dress["id"]}, expect=201
        )
        deal = {"price": 6900, "quantity": 5, "seconds": 60}
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin/deal", deal, expect=201)
        await asyncio.sleep(2)
        hello = await send(lea, episode_id, "Love this dress")
        await asyncio.sleep(1)
        rude = await send(lea, episode_id, "something rude")
        deleted = await moderator.call("chat:delete", {"episode_id": episode_id, "message_id": rude["id"]})
        assert deleted["ok"], deleted
        await asyncio.sleep(2)
        cashmere_pin = await host.call(
            "POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": cashmere["id"]}, expect=201
        )
        await asyncio.sleep(4)
        later = await send(lea, episode_id, "Which size for 1.70 m?")
        await asyncio.sleep(1)
        poll = await host.open_poll(episode_id)
        vote = {"episode_id": episode_id, "poll_id": poll["id"], "option_ids": [poll["options"][1]["id"]]}
        assert (await lea.call("poll:vote", vote))["ok"]
        await asyncio.sleep(2)
        await host.call("POST", f"/api/v1/polls/{poll['id']}/close")
        await asyncio.sleep(1)
        giveaway = await manager.call("POST", f"/api/v1/episodes/{episode_id}/giveaways", GIVEAWAY, expect=201)
        await host.call("POST", f"/api/v1/giveaways/{giveaway['id']}/open")
        entered = await lea.call("giveaway:enter", {"episode_id": episode_id, "giveaway_id": giveaway["id"]})
        assert entered["ok"], entered
        await host.call("POST", f"/api/v1/giveaways/{giveaway['id']}/close")
        await asyncio.sleep(1)
        await host.call("POST", f"/api/v1/giveaways/{giveaway['id']}/draw")
        await asyncio.sleep(2)
        await end_show(studio)
        for member in (lea, moderator):
            await member.sio.disconnect()

        playlist = await recorded(http, episode_id, ended=True)
        started = when(DATES.search(playlist).group(1))  # the recording's first picture
        episode = await host.call("GET", f"/api/v1/public/episodes/{episode_id}")
        ended_at = when(episode["ended_at"])
        pins = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/pins")
        assert [p["id"] for p in pins] == [dress_pin["id"], cashmere_pin["id"]]
        assert pins[0]["deal"]["price"] == 6900  # the live's flash deal

        def second_of(moment: str) -> float:
            """Which second of the replay a moment of the live is (the recording never paused here)."""
            return (when(moment) - started).total_seconds()

        cashmere_at = second_of(cashmere_pin["shown_at"])
        assert 5 < cashmere_at < 30, cashmere_at

        # After the show, a viewer on a phone: the replay, with the products the host showed.
        viewer_page = await watched_page(await open_context("viewer", viewport=PHONE, is_mobile=True, has_touch=True))
        viewer, viewer_console = viewer_page.page, viewer_page.console
        await viewer.goto(f"{live_server.url}/watch/{episode_id}")
        await expect(viewer.get_by_test_id("player")).to_have_attribute("data-state", "replay")
        timeline = viewer.get_by_test_id("replay-timeline")
        await expect(timeline).to_be_visible()
        items = timeline.get_by_test_id("timeline-item")
        await expect(items.get_by_test_id("timeline-title")).to_have_text(["Linen wrap dress", "Cashmere crew-neck"])
        await expect(items.last.get_by_test_id("timeline-time")).to_have_text(
            f"{int(cashmere_at) // 60}:{int(cashmere_at) % 60:02d}"
        )
        # Nothing over the video and nothing in the chat yet: the replay is at its start.
        await expect(viewer.get_by_test_id("pin-card")).to_have_count(0)
        assert await chat_texts(viewer) == []
        await viewer.screenshot(path=results_dir / "watch-replay-timeline-mobile.png")

        # A tap on the cashmere: the video jumps to the moment it was pinned, and its card is there.
        await items.last.click()
        await expect(viewer.get_by_test_id("ended")).to_be_hidden()
        await viewer.wait_for_function(f"() => Math.abs(({CURRENT_TIME})() - {cashmere_at}) < 1.5", timeout=10_000)
        card = viewer.get_by_test_id("pin-card")
        await expect(card.get_by_test_id("pin-title")).to_have_text("Cashmere crew-neck")
        await expect(card.get_by_test_id("pin-price")).to_have_text("€129.00")
        await expect(card.get_by_test_id("pin-replay-note")).to_have_text("Replay: at today's price")
        await expect(items.last).to_have_attribute("aria-current", "true")
        assert "Love this dress" in await chat_texts(viewer)
        await viewer.screenshot(path=results_dir / "watch-replay-pin-mobile.png")
        found = await blocking_violations(viewer)
        assert found == [], found

        # They buy it as in the live: one size, "Add to cart", the drawer, the checkout.
        await open_card(viewer)
        await card.get_by_test_id("variant").first.click()
        await card.get_by_role("button", name="Add to cart").click()
        await expect(viewer.get_by_test_id("cart-count")).to_have_text("1")
        await card.get_by_role("button", name="View cart").click()
        drawer = viewer.get_by_test_id("cart-drawer")
        line = drawer.get_by_test_id("cart-line")
        await expect(line.get_by_test_id("cart-line-title")).to_have_text("Cashmere crew-neck")
        await expect(line.get_by_test_id("cart-hold")).to_have_text("")  # nothing is held for a replay buyer
        await drawer.get_by_role("button", name="Checkout").click()
        await drawer.get_by_label("Email").fill("grace@example.com")
        await drawer.get_by_label("Name", exact=True).fill("Grace Hopper")
        await drawer.get_by_test_id("method-pickup").check()
        await expect(drawer.get_by_test_id("total")).to_have_text("€129.00")
        await drawer.get_by_role("button", name="Place order · €129.00").click()
        await expect(drawer.get_by_test_id("confirmation")).to_be_visible()
        await viewer.screenshot(path=results_dir / "watch-replay-ordered-mobile.png")
        await drawer.get_by_role("button", name="Keep watching").click()

        # A replay sale: the episode's, placed after the live ended.
        (order,) = await manager.call("GET", f"/api/v1/brands/{demo.BRAND_SLUG}/orders")
        assert order["email"] == "grace@example.com" and when(order["created_at"]) > ended_at
        sales = await manager.call("GET", f"/api/v1/episodes/{episode_id}/sales")
        assert (sales["orders"], sales["units"], sales["revenue"]) == (1, 1, 12900)
        database = Database(create_engine(live_server.database_url))
        try:
            async with database.transaction() as session:
                lines = (await session.execute(text("SELECT episode_id, quantity FROM order_lines"))).all()
        finally:
            await database.close()
        assert [(str(e).replace("-", ""), q) for e, q in lines] == [(episode_id.replace("-", ""), 1)]

        # Back to the dress, a flash deal during the live: today's price in the replay, and it says so.
        await replay_at(viewer, second_of(dress_pin["shown_at"]) + 0.2)
        await expect(card.get_by_test_id("pin-title")).to_have_text("Linen wrap dress")
        await expect(card.get_by_test_id("pin-price")).to_have_text("€89.00")
        await expect(card.get_by_test_id("pin-replay-note")).to_have_text(
            "The flash deal was for the live: today's price"
        )
        await expect(card.get_by_test_id("pin-deal")).to_be_hidden()

        # The chat plays in step: each message once the video reaches the moment it was sent, never
        # the deleted one; going back takes them away again.
        messages = {m["text"]: second_of(m["at"]) for m in (hello, later)}
        await replay_at(viewer, messages["Love this dress"] - 1)
        await expect(viewer.get_by_test_id("chat-message")).to_have_count(0)
        await replay_at(viewer, messages["Love this dress"] + 0.5)
        await expect(viewer.get_by_test_id("chat-text")).to_have_text(["Love this dress"])
        await replay_at(viewer, messages["Which size for 1.70 m?"] + 0.5)
        await expect(viewer.get_by_test_id("chat-text")).to_have_text(["Love this dress", "Which size for 1.70 m?"])
        assert "something rude" not in await viewer.get_by_test_id("chat").inner_text()

        # The poll at its moment, nothing to vote on any more; its result once it closed.
        (shown_poll,) = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/polls")
        poll_card = viewer.get_by_test_id("poll-card")
        await replay_at(viewer, second_of(shown_poll["opened_at"]) + 0.3)
        await expect(poll_card.get_by_test_id("poll-question")).to_have_text("Which colour next?")
        await expect(poll_card.get_by_test_id("poll-status")).to_have_text(
            "Votes were cast during the live: the result comes when it closes."
        )
        await expect(poll_card.get_by_test_id("poll-option").first).to_be_disabled()
        await replay_at(viewer, second_of(shown_poll["closed_at"]) + 0.3)
        await expect(poll_card.get_by_test_id("poll-status")).to_have_text("Voting closed · 1 vote")
        await expect(poll_card.get_by_test_id("poll-share")).to_have_text(["0%", "100%"])
        # The draw revealed at its moment: the winning entry (its id, as in the proof; no name).
        (shown_giveaway,) = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/giveaways")
        giveaway_card = viewer.get_by_test_id("giveaway-card")
        await replay_at(viewer, second_of(shown_giveaway["opened_at"]) + 0.1)
        await expect(giveaway_card.get_by_test_id("giveaway-replay")).to_have_text(
            "Entries were taken during the live."
        )
        await expect(giveaway_card.get_by_test_id("giveaway-enter")).to_have_count(0)
        await replay_at(viewer, second_of(shown_giveaway["draws"][0]["at"]) + 0.3)
        winner = giveaway_card.get_by_test_id("giveaway-winner")
        await expect(winner).to_have_count(1)
        await expect(winner).to_contain_text(entered["entry"]["id"])
        assert "Lea" not in await winner.inner_text()

        await replay_at(viewer, 0)
        await expect(viewer.get_by_test_id("chat-message")).to_have_count(0)
        for kind in ("pin", "poll", "giveaway"):
            await expect(viewer.get_by_test_id(f"{kind}-card")).to_have_count(0)

        # ?t= starts at that second; outside the recording, or not a number, at its start.
        for asked, start in (("5", 5.0), ("9999", 0.0), ("-5", 0.0), ("abc", 0.0), ("", 0.0)):
            await viewer.goto(f"{live_server.url}/watch/{episode_id}?t={asked}")
            await expect(viewer.get_by_test_id("player")).to_have_attribute("data-state", "replay")
            await viewer.wait_for_function("() => document.querySelector('[data-testid=video]').readyState >= 1")
            at_start = f"() => Math.abs(({CURRENT_TIME})() - {start}) < 0.5"
            await viewer.wait_for_function(at_start, timeout=5_000)
            await asyncio.sleep(0.5)  # and it stays there until the viewer plays it
            assert await viewer.evaluate(at_start), asked
        await viewer.get_by_role("button", name="Watch the replay").click()
        await viewer.wait_for_function(f"() => ({CURRENT_TIME})() > 0.5")

        # The report: the phone's viewer is the replay's one viewer (the buyer, by the same guest token),
        # and the two cards they saw over the replay are its card views (nobody's page showed one live).
        async with asyncio.timeout(20):
            while True:  # their player's beats come every second while it plays
                report = await manager.call("GET", f"/api/v1/episodes/{episode_id}/report")
                if report["audience"]["replay"]["watch_seconds"] >= 2:
                    break
                await asyncio.sleep(0.5)
        assert report["audience"]["replay"]["unique_viewers"] == 1
        replay_sales = report["sales"]["replay"]
        assert (replay_sales["viewers"], replay_sales["carts"], replay_sales["buyers"]) == (1, 1, 1)
        seen = {p["title"]: (p["card_views"], p["replay_card_views"]) for p in report["products"]}
        assert seen == {"Linen wrap dress": (1, 1), "Cashmere crew-neck": (1, 1)}

        # On a laptop, in French: the same timeline, the keyboard reaches it, axe finds nothing serious.
        laptop = (await watched_page(await open_context("laptop", viewport=LAPTOP, locale="fr-FR"))).page
        await laptop.goto(f"{live_server.url}/watch/{episode_id}?t={int(cashmere_at) + 1}")
        await expect(laptop.get_by_role("heading", name="Dans cette rediffusion")).to_be_visible()
        await expect(laptop.get_by_test_id("pin-title")).to_have_text("Cashmere crew-neck")
        await expect(laptop.get_by_test_id("pin-replay-note")).to_have_text(
            re.compile(r"^Rediffusion\s:\sau prix du jour$")
        )
        first = laptop.get_by_test_id("timeline-item").first
        await first.focus()
        await laptop.keyboard.press("Enter")
        await expect(laptop.get_by_test_id("pin-title")).to_have_text("Linen wrap dress")
        await laptop.screenshot(path=results_dir / "watch-replay-laptop-fr.png")
        found = await blocking_violations(laptop)
        assert found == [], found

    studio_console.assert_clean()
    viewer_console.assert_clean()
