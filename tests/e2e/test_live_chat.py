"""The live chat in real browsers: two viewers and the host, each in their own Chromium.

A viewer's message reaches the other viewer and the studio; the host deletes it and it disappears
for both viewers; a question reaches the host's Q&A queue; slow mode refuses a message with a
countdown. No video is needed: the chat of a scheduled episode is open already.
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Locator, Page, expect

from shopcast import demo

from .conftest import LiveServer, OpenContext, coming_episodes, sign_in, watched_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


async def join_chat(page: Page, url: str, nickname: str) -> None:
    """Open the watch page and pick a nickname; returns once the chat takes messages."""
    await page.goto(url)
    await pick_nickname(page, nickname)


async def pick_nickname(page: Page, nickname: str) -> None:
    await expect(page.get_by_test_id("nickname-form")).to_be_visible()
    await page.get_by_label("Pick a nickname to chat").fill(nickname)
    await page.get_by_role("button", name="Join the chat").click()
    await expect(page.get_by_test_id("chat-form")).to_be_visible()
    await expect(page.get_by_test_id("chat-input")).to_be_enabled()
    await expect(page.get_by_test_id("chat-status")).to_be_hidden()


async def say(page: Page, text: str, *, question: bool = False) -> None:
    await page.get_by_test_id("chat-input").fill(text)
    if question:
        await page.get_by_test_id("ask-host").check()
    await page.get_by_test_id("chat-send").click()


# The room client takes every incoming event through `receive`: skipping one is losing it.
DROP_NEXT_MESSAGE = """() => {
  const room = window.shopcastWatch.room;
  const receive = room.receive.bind(room);
  let dropped = false;
  room.receive = (event, data) => {
    if (event === "chat:message" && !dropped) dropped = true;
    else receive(event, data);
  };
}"""


async def end_episode(server: LiveServer, episode_id: str) -> None:
    """The host starts and ends the show through the API (no camera needed)."""
    async with aiohttp.ClientSession(base_url=server.url) as http:
        login = {"email": "host@demo.shopcast.test", "password": demo.PASSWORD}
        async with http.post("/api/v1/auth/login", json=login) as response:
            assert response.status == 200, await response.text()
            headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
        for step in ("start", "end"):
            async with http.post(f"/api/v1/episodes/{episode_id}/{step}", headers=headers) as response:
                assert response.status == 200, await response.text()


def message(page: Page, text: str) -> Locator:
    """The chat messages whose own text (not a quote of another) contains `text`."""
    return page.get_by_test_id("chat-message").filter(has=page.get_by_test_id("chat-text").filter(has_text=text))


async def test_viewers_and_the_host_chat_and_the_host_moderates(
    live_server: LiveServer, open_context: OpenContext, results_dir: Path
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]  # scheduled: its chat is open
    watch_url = f"{live_server.url}/watch/{episode_id}"

    host = await watched_page(await open_context("host", viewport=DESKTOP))
    ada = await watched_page(await open_context("ada", viewport=PHONE, is_mobile=True, has_touch=True))
    bob = await watched_page(await open_context("bob", viewport=DESKTOP))
    studio, a, b = host.page, ada.page, bob.page

    await studio.goto(f"{live_server.url}/studio/{episode_id}")
    await sign_in(studio, "host@demo.shopcast.test", demo.PASSWORD)
    await expect(studio.get_by_test_id("studio-room")).to_be_visible()
    await expect(studio.get_by_test_id("chat-empty")).to_be_visible()

    await join_chat(a, watch_url, "Ada")
    # Bob only watches for now: no nickname, yet he is in the room and counted. The host is not a
    # viewer: the studio and the player show the same figure.
    await b.goto(watch_url)
    await expect(b.get_by_test_id("nickname-form")).to_be_visible()
    await expect(b.get_by_test_id("chat-status")).to_be_hidden()
    for page in (a, b):
        await expect(page.get_by_test_id("viewer-count")).to_have_text("2 watching")
    await expect(studio.get_by_test_id("viewer-count")).to_have_text("2")

    # The host greets the room: viewers see the message with the host's badge, Bob too.
    await say(studio, "Welcome everyone!")
    for page in (a, b):
        greeting = message(page, "Welcome everyone!")
        await expect(greeting).to_have_count(1)
        await expect(greeting.get_by_test_id("chat-author")).to_have_text("Inès")
        await expect(greeting.get_by_test_id("role-badge")).to_have_text("Host")

    # To write, Bob picks a nickname: the chat he has read stays, nothing twice.
    await pick_nickname(b, "Bob")
    await expect(message(b, "Welcome everyone!")).to_have_count(1)

    # Ada's message reaches Bob and the studio, once each; what she typed stays text, never markup.
    text = "Does the <b>blue</b> dress come in 38?"
    await say(a, text)
    await expect(a.get_by_test_id("chat-input")).to_have_value("")
    for page in (a, b, studio):
        sent = message(page, "blue")
        await expect(sent).to_have_count(1)
        await expect(sent.get_by_test_id("chat-text")).to_have_text(text)
        await expect(sent.get_by_test_id("chat-author")).to_have_text("Ada")
        await expect(sent.get_by_test_id("role-badge")).to_have_count(0)
        assert await sent.locator("b").count() == 0
    await expect(message(b, "blue")).to_have_count(1)

    # Bob replies to it: the reply quotes Ada's words for everyone.
    await message(b, "blue").get_by_test_id("reply").click()
    await expect(b.get_by_test_id("reply-preview")).to_contain_text("Replying to Ada")
    await say(b, "I'd like to know too")
    for page in (a, studio):
        reply = message(page, "I'd like to know too")
        await expect(reply.get_by_test_id("chat-quote")).to_contain_text("Ada")
        await expect(reply.get_by_test_id("chat-quote")).to_contain_text("blue")
    await expect(b.get_by_test_id("reply-preview")).to_be_hidden()
    await a.screenshot(path=results_dir / "watch-chat-mobile.png")

    # Reactions: Ada's taps float up for her at once, and reach Bob and the studio summed.
    hearts = a.get_by_role("button", name="Love")
    await hearts.click()
    await hearts.click()
    await expect(b.get_by_role("button", name="Love").get_by_test_id("reaction-count")).to_have_text("2")
    await expect(hearts.get_by_test_id("reaction-count")).to_have_text("2")

    # The host deletes Ada's message: it disappears for both viewers and in the studio.
    in_studio = message(studio, "blue")
    await in_studio.get_by_test_id("mod-toggle").click()
    await in_studio.get_by_test_id("mod-delete").click()
    for page in (a, b, studio):
        await expect(message(page, "blue")).to_have_count(0)
    await expect(studio.get_by_test_id("moderation-notice")).to_have_text("Ada's message was deleted.")
    # Good news goes by itself after a few seconds, without the host dismissing it.
    await expect(studio.get_by_test_id("moderation-notice")).to_be_empty(timeout=15_000)
    # The reply stays; its quote no longer shows the deleted words.
    for page in (a, b):
        quote = message(page, "I'd like to know too").get_by_test_id("chat-quote")
        await expect(quote).to_contain_text("Message removed")

    # Ada asks the host: the question lands in the studio's Q&A queue, marked as one for everyone.
    await say(a, "Is the linen shirt machine washable?", question=True)
    await expect(message(b, "linen shirt").get_by_test_id("question-tag")).to_have_text("Question")
    queue = studio.get_by_test_id("question")
    await expect(queue).to_have_count(1)
    await expect(queue).to_contain_text("Is the linen shirt machine washable?")
    await expect(studio.get_by_test_id("question-count")).to_have_text("1")
    # Pinned for the room while the host answers, then marked answered.
    await queue.get_by_test_id("pin-question").click()
    for page in (a, b):
        await expect(page.get_by_test_id("pinned-message")).to_contain_text("linen shirt")
    await studio.screenshot(path=results_dir / "studio-chat.png", full_page=True)
    await b.screenshot(path=results_dir / "watch-chat.png")
    await queue.get_by_test_id("mark-answered").click()
    await expect(queue).to_have_count(0)
    await expect(studio.get_by_test_id("no-questions")).to_be_visible()
    await expect(message(b, "linen shirt")).to_have_attribute("data-answered", "")

    # Slow mode: Bob wrote a moment ago, so his next message is refused with a countdown.
    await studio.get_by_label("One message per viewer every").select_option("30")
    await expect(b.get_by_test_id("chat-slow-mode")).to_have_text("Slow mode: one message every 30 s.")
    await say(b, "Too soon?")
    countdown = b.get_by_test_id("chat-cooldown")
    await expect(countdown).to_have_text(re.compile(r"^Slow mode: you can send again in (2\d|30) s\.$"))
    ticking = await countdown.inner_text()
    await expect(countdown).not_to_have_text(ticking)  # it counts down
    await expect(b.get_by_test_id("chat-send")).to_be_disabled()
    await expect(b.get_by_test_id("chat-input")).to_have_value("Too soon?")  # kept, to send later
    await expect(message(a, "Too soon?")).to_have_count(0)
    await b.screenshot(path=results_dir / "watch-chat-slow-mode.png")

    for watched in (host, ada, bob):
        watched.console.assert_clean()


async def moderate(studio: Page, text: str, action: str) -> None:
    """Open the studio's menu on the message that says `text` and press `action` (a data-testid)."""
    target = message(studio, text)
    await target.get_by_test_id("mod-toggle").click()
    await target.get_by_test_id(action).click()


async def test_time_outs_shadow_bans_and_bans_as_viewers_see_them(
    live_server: LiveServer, open_context: OpenContext, results_dir: Path
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]
    watch_url = f"{live_server.url}/watch/{episode_id}"
    host = await watched_page(await open_context("host", viewport=DESKTOP))
    ada = await watched_page(await open_context("ada", viewport=DESKTOP))
    bob = await watched_page(await open_context("bob", viewport=PHONE, is_mobile=True, has_touch=True))
    studio, a, b = host.page, ada.page, bob.page

    await studio.goto(f"{live_server.url}/studio/{episode_id}")
    await sign_in(studio, "moderator@demo.shopcast.test", demo.PASSWORD)
    await expect(studio.get_by_test_id("studio-room")).to_be_visible()
    await join_chat(a, watch_url, "Ada")
    await join_chat(b, watch_url, "Bob")

    # A shadow-banned viewer still sees their own messages; nobody else does.
    await say(b, "Buy cheap followers at my shop")
    await expect(message(studio, "cheap followers")).to_have_count(1)
    await moderate(studio, "cheap followers", "mod-shadow-ban")
    await expect(studio.get_by_test_id("moderation-notice")).to_have_text("Bob's messages now reach only Bob.")
    await say(b, "Really cheap followers!")
    await expect(message(b, "Really cheap")).to_have_count(1)
    await say(a, "Hello from Ada")
    for page in (a, b, studio):
        await expect(message(page, "Hello from Ada")).to_have_count(1)
    await expect(message(a, "Really cheap")).to_have_count(0)
    await expect(message(studio, "Really cheap")).to_have_count(0)

    # A time-out: the server's reason, and a countdown until the viewer may write again.
    target = message(studio, "cheap followers")
    await target.get_by_test_id("mod-toggle").click()
    await target.get_by_test_id("timeout-minutes").select_option("5")
    await target.get_by_test_id("mod-timeout").click()
    await expect(studio.get_by_test_id("moderation-notice")).to_have_text("Bob is timed out for 5 min.")
    await say(b, "Why can't I write?")
    await expect(b.get_by_test_id("chat-cooldown")).to_have_text(
        re.compile(r"^You are timed out: you can send again in [45] min \d\d s\.$")
    )
    await expect(b.get_by_test_id("chat-send")).to_be_disabled()
    await b.screenshot(path=results_dir / "watch-chat-timed-out-mobile.png")
    await b.reload()  # the same guest, still timed out: the snapshot says until when
    await expect(b.get_by_test_id("chat-cooldown")).to_contain_text("You are timed out: you can send again in")
    await expect(b.get_by_test_id("chat-send")).to_be_disabled()

    # A ban: the viewer is told they were removed, and cannot come back by reloading.
    await moderate(studio, "Hello from Ada", "mod-ban")
    await message(studio, "Hello from Ada").get_by_test_id("mod-ban-confirm").click()
    await expect(studio.get_by_test_id("moderation-notice")).to_have_text("Ada is banned and was removed.")
    await expect(a.get_by_test_id("chat-removed")).to_contain_text("You were removed from this chat")
    await expect(a.get_by_test_id("chat-form")).to_be_hidden()
    await a.reload()
    await expect(a.get_by_test_id("chat-removed")).to_contain_text("banned")
    await expect(a.get_by_test_id("chat-form")).to_be_hidden()
    await expect(b.get_by_test_id("chat-removed")).to_be_hidden()

    # A refused action shows the ack's reason (a time-out longer than a day, forced into the menu).
    target = message(studio, "cheap followers")
    await target.get_by_test_id("mod-toggle").click()
    await target.get_by_test_id("timeout-minutes").evaluate("(s) => { s.options[0].value = '5000'; s.value = '5000'; }")
    await target.get_by_test_id("mod-timeout").click()
    notice = studio.get_by_test_id("moderation-notice")
    await expect(notice).to_have_attribute("data-kind", "error")
    await expect(notice).to_contain_text("1440")

    for watched in (host, ada, bob):
        watched.console.assert_clean()


async def test_a_viewer_who_reconnects_misses_nothing_and_sees_nothing_twice(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]
    watch_url = f"{live_server.url}/watch/{episode_id}"
    ada = await watched_page(await open_context("ada", viewport=DESKTOP))
    bob = await watched_page(await open_context("bob", viewport=DESKTOP))
    a, b = ada.page, bob.page
    await join_chat(a, watch_url, "Ada")
    await join_chat(b, watch_url, "Bob")
    await say(a, "before the drop")
    await expect(message(b, "before the drop")).to_have_count(1)

    # Bob's connection drops; the room goes on without him.
    await b.evaluate("window.shopcastWatch.room.socket.disconnect()")
    for n in range(3):
        await say(a, f"while Bob was away {n}")
        await expect(message(a, f"while Bob was away {n}")).to_have_count(1)
    await expect(message(b, "while Bob was away")).to_have_count(0)

    # Back with the last seq he saw: exactly what he missed, in order, each once.
    await b.evaluate("window.shopcastWatch.room.socket.connect()")
    await expect(message(b, "while Bob was away")).to_have_count(3)
    await say(a, "after the drop")
    await expect(message(b, "after the drop")).to_have_count(1)
    texts = await b.get_by_test_id("chat-text").all_inner_texts()
    assert texts == ["before the drop", *(f"while Bob was away {n}" for n in range(3)), "after the drop"]

    # An event lost on the way (as when a slow connection's queue overflows): the next one shows a gap
    # in seq, and the page asks for what it missed.
    await b.evaluate(DROP_NEXT_MESSAGE)
    await say(a, "lost on the way")
    await expect(message(a, "lost on the way")).to_have_count(1)
    await say(a, "after the loss")
    await expect(message(b, "after the loss")).to_have_count(1)
    await expect(message(b, "lost on the way")).to_have_count(1)
    texts += ["lost on the way", "after the loss"]
    assert await b.get_by_test_id("chat-text").all_inner_texts() == texts

    # A reload is a fresh snapshot: the same chat, nothing twice.
    await b.reload()
    await expect(b.get_by_test_id("chat-text")).to_have_count(len(texts))
    assert await b.get_by_test_id("chat-text").all_inner_texts() == texts

    # After the show, anyone (no nickname needed) reads the chat as the replay keeps it.
    await end_episode(live_server, episode_id)
    carol = await watched_page(await open_context("carol", viewport=PHONE, is_mobile=True, has_touch=True))
    await carol.page.goto(watch_url)
    await expect(carol.page.get_by_test_id("chat-closed")).to_have_text("The show has ended: its chat is closed.")
    await expect(carol.page.get_by_test_id("chat-text")).to_have_count(len(texts))
    assert await carol.page.get_by_test_id("chat-text").all_inner_texts() == texts
    await expect(carol.page.get_by_test_id("nickname-form")).to_be_hidden()
    await expect(carol.page.get_by_test_id("reply")).to_have_count(len(texts))
    await expect(carol.page.get_by_test_id("reply").first).to_be_hidden()
    await expect(b.get_by_test_id("chat-closed")).to_be_visible()  # Bob was there: the room told him

    for watched in (ada, bob, carol):
        # Live without a camera, then ended: nothing to play and no replay in this test.
        watched.console.expect_http_error(409, f"/live/{episode_id}/whep")
        watched.console.expect_http_error(404, f"/live/{episode_id}/hls/index.m3u8")
        watched.console.assert_clean()
