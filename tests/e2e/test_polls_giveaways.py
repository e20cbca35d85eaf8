"""Polls and giveaways in real browsers: a viewer on a phone votes in a quiz the host writes on the spot
and enters a giveaway, both without picking a nickname; the host closes the quiz and draws the winner in
the studio; the viewer sees the right answer, the reveal, "You won!", their entry ID in the proof their
own browser checked, and claims the prize; then enters a keyword giveaway from the chat after picking a
nickname. After the show, a visitor who never entered finds the draw's proof on the episode's page,
checked by their browser. Before the show, the manager prepares a poll and a giveaway.
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from shopcast import demo

from .conftest import BrowserPage, ConsoleWatch, LiveServer, OpenContext, coming_episodes, sign_in, watched_page
from .test_live_shopping import PHONE, StaffApi
from .test_live_video import end_show, go_live, open_studio, wait_for_frames

pytestmark = pytest.mark.browser

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
GIVEAWAY = {
    "prize": {"title": "Cashmere scarf", "picture_url": None, "value": {"amount": 12000, "currency": "EUR"}},
    "winners": 1,
    "rules": "One entry per viewer. Be here for the draw.",
    "entry": "button",
    "eligibility": {"present_at_draw": True, "min_watch_minutes": 0, "bought_during_show": False},
    "claim_hours": 72,
}


async def test_a_viewer_votes_enters_and_sees_the_draw_they_can_check(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, results_dir: Path
) -> None:
    studio, studio_console = browser_page.page, browser_page.console
    episode_id = (await coming_episodes(live_server))[0]["id"]
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        # The manager prepared a giveaway for this episode.
        manager = await StaffApi.sign_in(http, "manager@demo.shopcast.test")
        giveaway = await manager.call("POST", f"/api/v1/episodes/{episode_id}/giveaways", GIVEAWAY, expect=201)
        by_keyword = await manager.call(
            "POST",
            f"/api/v1/episodes/{episode_id}/giveaways",
            {
                **GIVEAWAY,
                "prize": {**GIVEAWAY["prize"], "title": "Leather tote"},
                "entry": "keyword",
                "keyword": "TOTE",
            },
            expect=201,
        )

        await open_studio(studio, live_server, episode_id)
        await go_live(studio, episode_id)
        row = studio.locator(f'[data-testid=staff-giveaway][data-giveaway-id="{giveaway["id"]}"]')
        await expect(row.get_by_test_id("staff-giveaway-prize")).to_contain_text("Cashmere scarf")

        # A viewer on a phone watches, without a nickname.
        viewer_context = await open_context("viewer", viewport=PHONE, is_mobile=True, has_touch=True)
        viewer_page = await watched_page(viewer_context)
        viewer, viewer_console = viewer_page.page, viewer_page.console
        await viewer.goto(f"{live_server.url}/watch/{episode_id}")
        await wait_for_frames(viewer, "video")
        await expect(viewer.get_by_test_id("nickname-form")).to_be_visible()

        # The host writes a quiz on the spot and opens it: it comes up under the video on the phone.
        await studio.get_by_text("Write a poll now").click()
        await studio.get_by_test_id("poll-question-input").fill("Which colour is the new scarf?")
        options = studio.get_by_test_id("poll-option-input")
        await options.nth(0).fill("Camel")
        await options.nth(1).fill("Navy")
        await studio.get_by_test_id("poll-quiz").check()
        await studio.get_by_test_id("poll-option-right").nth(1).check()
        await studio.get_by_role("button", name="Open it now").click()
        poll = viewer.get_by_test_id("poll-card")
        await expect(poll.get_by_test_id("poll-question")).to_have_text("Which colour is the new scarf?")
        await expect(poll).to_be_in_viewport()

        # A tap on its strip over the video opens it; one tap votes: the viewer silently becomes a
        # nameless guest, still without a nickname.
        await poll.tap()
        await expect(viewer.get_by_test_id("overlay")).to_have_attribute("data-sheet", "")
        await poll.get_by_role("button", name="Navy").click()
        await expect(poll.get_by_test_id("poll-status")).to_contain_text("You voted")
        await expect(poll.locator("[data-mine]")).to_have_count(1)
        await expect(viewer.get_by_test_id("nickname-form")).to_be_visible()
        staff_poll = studio.locator("[data-testid=staff-poll][data-status=open]")
        await expect(staff_poll.get_by_test_id("staff-poll-total")).to_have_text("1 vote")
        await viewer.screenshot(path=results_dir / "watch-poll-mobile.png")

        # The host closes it: the right answer and the share who found it.
        await staff_poll.get_by_role("button", name="Close").click()
        await expect(poll).to_have_attribute("data-status", "closed")
        await expect(poll.get_by_test_id("poll-verdict")).to_have_text("You got it right! 🎉 100% got it right")

        # The host opens the giveaway's entries: its card comes to the front, the poll stays a chip away.
        await row.get_by_role("button", name="Open entries").click()
        card = viewer.get_by_test_id("giveaway-card")
        await expect(card.get_by_test_id("giveaway-prize")).to_have_text("Cashmere scarf")
        await expect(card.get_by_test_id("giveaway-commitment")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
        await expect(viewer.get_by_test_id("chip-poll")).to_be_visible()
        await expect(poll).to_be_hidden()

        # One tap enters; the viewer's entry ID is on the card.
        await card.get_by_role("button", name="Enter the giveaway").click()
        entry = card.get_by_test_id("giveaway-entry-id")
        await expect(entry).to_have_text(re.compile(f"^{UUID}$"))
        entry_id = await entry.text_content()
        await expect(row.get_by_test_id("staff-giveaway-entries")).to_have_text("1 entry")
        await viewer.screenshot(path=results_dir / "watch-giveaway-mobile.png")

        # The host closes the entries and draws, on air: the viewer sees the reveal and wins.
        await row.get_by_role("button", name="Close entries").click()
        await row.get_by_role("button", name="Draw the winners").click()
        reveal = card.get_by_test_id("giveaway-reveal")
        await expect(reveal).to_have_attribute("data-revealed", "")
        await expect(reveal.get_by_test_id("giveaway-winner")).to_have_count(1)
        await expect(reveal.get_by_test_id("giveaway-winner")).to_contain_text(entry_id)
        await expect(card.get_by_test_id("giveaway-won")).to_be_visible()
        await expect(row.get_by_test_id("staff-claim-status")).to_contain_text("Not claimed yet")
        await viewer.screenshot(path=results_dir / "watch-giveaway-won-mobile.png")

        # Under the episode, the proof: their entry ID among the eligible ones, checked by their browser.
        proof = viewer.locator(f'[data-testid=proof][data-giveaway-id="{giveaway["id"]}"]')
        await expect(proof).to_have_attribute("data-checked", "ok")
        await expect(proof.get_by_test_id("proof-yours")).to_have_text(f"Your entry ID {entry_id} is in this list.")
        await expect(proof.get_by_test_id("proof-eligible")).to_contain_text(entry_id)
        public = await manager.call("GET", f"/api/v1/public/giveaways/{giveaway['id']}/proof")
        await expect(proof.get_by_test_id("proof-seed")).to_have_text(public["seed"])

        # The claim link opens the claim page, where the winner says where the prize goes.
        async with viewer_context.expect_page() as opened:
            await card.get_by_role("link", name="Claim your prize").click()
        claim = await opened.value
        claim_console = ConsoleWatch()
        claim.on("console", claim_console.on_console)
        claim.on("pageerror", claim_console.on_page_error)
        await expect(claim.get_by_test_id("claim-entry")).to_have_text(f"Your entry ID: {entry_id}")
        await claim.get_by_label("Email").fill("ada@example.com")
        await claim.get_by_label("Name", exact=True).fill("Ada Lovelace")
        await claim.get_by_label("Address", exact=True).fill("12 rue des Archives")
        await claim.get_by_label("Postal code").fill("75004")
        await claim.get_by_label("City").fill("Paris")
        await claim.get_by_label("Country").select_option("FR")
        await claim.get_by_role("button", name="Send my claim").click()
        await expect(claim.get_by_test_id("claim-status")).to_contain_text("Your claim is sent")
        await claim.screenshot(path=results_dir / "claim-mobile.png")
        staff = await manager.call("GET", f"/api/v1/episodes/{episode_id}/giveaways")
        drawn = next(g for g in staff if g["id"] == giveaway["id"])
        assert [w["status"] for w in drawn["drawn_winners"]] == ["claimed"]
        await studio.screenshot(path=results_dir / "studio-polls-giveaways.png", full_page=True)

        # A second giveaway is entered by typing its keyword in the chat: the card offers to write it,
        # the viewer picks a nickname (the same guest, now named) and sends it; the card shows the entry.
        await viewer.bring_to_front()
        keyword_row = studio.locator(f'[data-testid=staff-giveaway][data-giveaway-id="{by_keyword["id"]}"]')
        await keyword_row.get_by_role("button", name="Open entries").click()
        await expect(card).to_have_attribute("data-giveaway-id", by_keyword["id"])
        await expect(card.get_by_test_id("giveaway-keyword")).to_have_text("Type TOTE in the chat to enter")
        await card.get_by_role("button", name="Write it in the chat").click()
        await expect(viewer.get_by_label("Pick a nickname to chat")).to_be_focused()
        await viewer.get_by_label("Pick a nickname to chat").fill("Ada")
        await viewer.get_by_role("button", name="Join the chat").click()
        await expect(viewer.get_by_test_id("chatting-as")).to_have_text("Chatting as Ada")
        await expect(viewer.get_by_test_id("chat-input")).to_have_value("TOTE")
        await viewer.get_by_role("button", name="Send", exact=True).click()
        await expect(card.get_by_test_id("giveaway-entry-id")).to_have_text(re.compile(f"^{UUID}$"))
        await expect(keyword_row.get_by_test_id("staff-giveaway-entries")).to_have_text("1 entry")

        # The show ends. A visitor who never entered opens the episode's page afterwards: under the
        # episode, the draw's proof, checked by their own browser, with how to check it yourself.
        hls = f"/live/{episode_id}/hls/index.m3u8"
        viewer_console.expect_http_error(404, hls)
        await end_show(studio)
        visitor_page = await watched_page(await open_context("visitor", viewport=PHONE, is_mobile=True, has_touch=True))
        visitor, visitor_console = visitor_page.page, visitor_page.console
        visitor_console.expect_http_error(404, hls)
        await visitor.goto(f"{live_server.url}/watch/{episode_id}")
        await expect(visitor.get_by_test_id("player")).to_have_attribute("data-state", re.compile("^(ended|replay)$"))
        listed = visitor.get_by_test_id("proof")
        await expect(listed).to_have_count(1)  # the keyword giveaway was never drawn: no proof yet
        await expect(listed).to_have_attribute("data-giveaway-id", giveaway["id"])
        await expect(listed.get_by_test_id("proof-title")).to_have_text("Check the draw: Cashmere scarf")
        await expect(listed).to_have_attribute("data-checked", "ok")
        await expect(listed.get_by_test_id("proof-seed")).to_have_text(public["seed"])
        await expect(listed.get_by_test_id("proof-commitment")).to_have_text(public["commitment"])
        await expect(listed.get_by_test_id("proof-eligible")).to_contain_text(entry_id)
        await expect(listed.get_by_test_id("proof-yours")).to_have_count(0)
        checks = listed.get_by_test_id("proof-checks").locator("li")
        await expect(checks.first).to_be_visible()
        assert set(await checks.evaluate_all("(items) => items.map((li) => li.dataset.ok)")) == {"true"}
        await expect(listed.get_by_role("heading", name="Check it yourself")).to_be_visible()
        await expect(listed).to_contain_text("shopcast giveaway verify --proof proof.json")
        await expect(listed.get_by_test_id("proof-download")).to_be_visible()
        await visitor.screenshot(path=results_dir / "watch-replay-proof-mobile.png", full_page=True)

    studio_console.assert_clean()
    viewer_console.assert_clean()
    claim_console.assert_clean()
    visitor_console.assert_clean()


async def test_a_manager_prepares_a_poll_and_a_giveaway_for_an_episode(
    live_server: LiveServer, browser_page: BrowserPage, results_dir: Path
) -> None:
    page, console = browser_page.page, browser_page.console
    episode_id = (await coming_episodes(live_server))[0]["id"]
    await page.goto(f"{live_server.url}/manage")
    await sign_in(page, "manager@demo.shopcast.test", demo.PASSWORD)
    await expect(page.get_by_test_id("show-title")).to_have_text(demo.SHOW_TITLE)
    episode = page.locator(f'[data-testid=episode][data-episode-id="{episode_id}"]')
    await episode.get_by_role("button", name="Polls & giveaways").click()
    panel = page.get_by_test_id("games-panel")
    await expect(panel.get_by_test_id("manager-polls-empty")).to_be_visible()

    # A poll whose first option is a product of the episode's lineup, the second in words.
    await panel.get_by_text("Prepare a poll").click()
    form = panel.get_by_test_id("prepare-poll-form")
    await form.get_by_test_id("poll-question-input").fill("Which one should I try on next?")
    await form.locator("select[name=product]").nth(0).select_option(label="Linen wrap dress")
    await form.get_by_test_id("poll-option-input").nth(1).fill("Something else")
    await form.get_by_role("button", name="Save the poll").click()
    poll = panel.get_by_test_id("staff-poll")
    await expect(poll.get_by_test_id("staff-poll-question")).to_have_text("Which one should I try on next?")
    await expect(poll).to_contain_text("Linen wrap dress")
    await expect(panel.get_by_test_id("manager-polls-empty")).to_be_hidden()

    # A giveaway entered by typing a keyword in the chat.
    await panel.get_by_text("Prepare a giveaway").click()
    form = panel.get_by_test_id("giveaway-form")
    await form.get_by_label("Prize", exact=True).fill("Leather tote")
    await form.get_by_label("Value", exact=True).fill("159")
    await form.get_by_label("Winners", exact=True).fill("2")
    await form.get_by_label("Rules viewers read before entering").fill("Type TOTE in the chat. Two winners.")
    await form.get_by_test_id("giveaway-entry-keyword").check()
    await form.get_by_label("Keyword", exact=True).fill("TOTE")
    await form.get_by_role("button", name="Save the giveaway").click()
    giveaway = panel.get_by_test_id("staff-giveaway")
    await expect(giveaway.get_by_test_id("staff-giveaway-prize")).to_contain_text("Leather tote")
    await expect(giveaway).to_contain_text("Keyword “TOTE”")
    await page.screenshot(path=results_dir / "manager-polls-giveaways.png", full_page=True)

    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        manager = await StaffApi.sign_in(http, "manager@demo.shopcast.test")
        saved = await manager.call("GET", f"/api/v1/episodes/{episode_id}/giveaways")
        assert [(g["prize"]["value"], g["winners"], g["entry"], g["keyword"]) for g in saved] == [
            ({"amount": 15900, "currency": "EUR"}, 2, "keyword", "TOTE")
        ]

    # A draft can be deleted.
    await poll.get_by_role("button", name="Delete").click()
    await expect(panel.get_by_test_id("manager-polls-empty")).to_be_visible()
    console.assert_clean()
