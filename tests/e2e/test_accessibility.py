"""Every page in every state a viewer, host or manager meets passes axe-core without a serious or
critical finding and does not scroll sideways: the manager page (its show, episodes being moved,
cancelled and added, an episode's products), the studio during the live, the watch page before, during
(product card, cart and checkout, poll) and after the show, on a phone and on a laptop."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from shopcast import demo
from shopcast.core.catalogues import translate

from .accessibility import blocking_violations
from .conftest import BrowserPage, LiveServer, OpenContext, coming_episodes, open_card, watched_page
from .test_live_shopping import PHONE, StaffApi
from .test_manager_orders import orders_during_a_show

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
COCKPIT = ["screen", "end-show", "lineup", "deal-form", "studio-games", "chat", "chat-input", "questions-card"]


async def findings(page: Page) -> list[str]:
    """axe-core's serious and critical findings, and the page scrolling sideways: a page wider than the
    screen feels broken on a phone. (Against the screen's width: a phone widens its layout to what
    overflows, and zooms out.)"""
    found = await blocking_violations(page)
    assert page.viewport_size is not None
    wider = await page.evaluate("() => document.documentElement.scrollWidth") - page.viewport_size["width"]
    if wider > 0:
        found.append(f"the page scrolls {wider} px sideways")
    return found


def assert_none(found: dict[str, list[str]]) -> None:
    assert not {state: lines for state, lines in found.items() if lines}, "\n".join(
        f"{state}:\n  " + "\n  ".join(lines) for state, lines in found.items() if lines
    )


async def sign_in_by_ids(page: Page, email: str) -> None:
    """The staff sign-in, by the form's test ids (its labels are in the page's language)."""
    await page.get_by_test_id("email").fill(email)
    await page.get_by_test_id("password").fill(demo.PASSWORD)
    await page.get_by_test_id("sign-in-submit").click()


async def plan_episodes(manager: Page) -> None:
    """Every form and panel of the show's episodes open at once, none sent: the second episode's new time
    and products (one added), the third's "are you sure?" before cancelling, a one-off's date and time."""
    second, third = manager.get_by_test_id("episode").nth(1), manager.get_by_test_id("episode").nth(2)
    await second.get_by_test_id("move-episode").click()
    await expect(second.get_by_test_id("move-form")).to_be_visible()
    await third.get_by_test_id("cancel-episode").click()
    await expect(third.get_by_test_id("keep-episode")).to_be_focused()
    await manager.get_by_test_id("add-episode").click()
    await expect(manager.get_by_test_id("one-off-form")).to_be_visible()
    await second.get_by_test_id("lineup-button").click()
    panel = manager.get_by_test_id("lineup-panel")
    await expect(panel.get_by_test_id("lineup-add")).to_be_visible()
    await panel.get_by_test_id("lineup-add-submit").click()
    await expect(panel.get_by_test_id("lineup-item")).to_have_count(1)


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
async def test_no_page_has_a_serious_accessibility_violation_in_any_state(
    live_server: LiveServer, browser_page: BrowserPage, open_context: OpenContext, locale: str
) -> None:
    found: dict[str, list[str]] = {}
    lang = locale.split("-")[0]

    async def check(state: str, page: Page) -> None:
        found[state] = await findings(page)

    manager = browser_page.page
    await manager.set_viewport_size(LAPTOP)
    await manager.goto(f"{live_server.url}/manage?lang={lang}")
    await expect(manager.get_by_test_id("email")).to_be_visible()
    await check("manager, signed out", manager)
    await sign_in_by_ids(manager, "manager@demo.shopcast.test")
    await expect(manager.get_by_test_id("episode-list").locator("li").first).to_be_visible()
    await check("manager, the show's episodes", manager)
    await manager.get_by_test_id("edit-show").click()
    await expect(manager.get_by_test_id("show-form-title")).to_be_focused()
    await check("manager, the show's form to change it", manager)
    await manager.get_by_test_id("show-form-cancel").click()
    await plan_episodes(manager)
    await check("manager, moving, cancelling and adding episodes, planning products (laptop)", manager)
    await manager.set_viewport_size({"width": 360, "height": 740})
    await check("manager, moving, cancelling and adding episodes, planning products (small phone)", manager)

    episode_id = (await coming_episodes(live_server))[0]["id"]
    phone = (
        await watched_page(await open_context("viewer", viewport=PHONE, is_mobile=True, has_touch=True, locale=locale))
    ).page
    await phone.goto(f"{live_server.url}/watch/{episode_id}")
    await expect(phone.get_by_test_id("countdown")).to_be_visible()
    await expect(phone.get_by_test_id("viewer-count")).to_be_hidden()  # a live figure, shown only live
    # Before the show: the episode to add to a calendar, and what the host will show.
    calendar = phone.get_by_test_id("add-to-calendar")
    await expect(calendar).to_have_attribute("href", f"/api/v1/public/episodes/{episode_id}/calendar.ics")
    await expect(phone.get_by_test_id("coming-name")).to_have_text(
        ["Linen wrap dress", "Cashmere crew-neck", "Leather tote"]
    )
    async with phone.expect_download() as downloading:
        await calendar.click()
    assert (await downloading.value).suggested_filename == f"episode-{episode_id}.ics"
    await check("watch, before the show (phone)", phone)

    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        await host.call("POST", f"/api/v1/episodes/{episode_id}/start")
        lineup: list[dict[str, Any]] = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup")

        studio = (await watched_page(await open_context("host", viewport=LAPTOP, locale=locale))).page
        await studio.goto(f"{live_server.url}/studio/{episode_id}")
        await sign_in_by_ids(studio, "host@demo.shopcast.test")
        await expect(studio.get_by_test_id("studio-room")).to_be_visible()
        await expect(studio.get_by_test_id("lineup-item").first).to_be_visible()

        await phone.reload()
        await expect(phone.get_by_test_id("chat")).to_be_visible()
        await check("watch, live (phone)", phone)
        await phone.get_by_test_id("nickname").fill("Ada")
        await phone.get_by_test_id("nickname-submit").click()
        await expect(phone.get_by_test_id("chat-form")).to_be_visible()
        await expect(phone.get_by_test_id("chat-input")).to_be_enabled()
        await expect(phone.get_by_test_id("chat-status")).to_be_hidden()
        await phone.get_by_test_id("chat-input").fill("Is the dress lined?")
        await phone.get_by_test_id("chat-input").press("Enter")
        await expect(studio.get_by_test_id("chat-message")).to_have_count(1)
        await expect(phone.get_by_test_id("chat-message")).to_have_count(1)
        await check("watch, live chat (phone)", phone)
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": lineup[0]["id"]}, expect=201)
        card = phone.get_by_test_id("pin-card")
        await expect(card).to_be_visible()
        await check("watch, a product pinned (phone)", phone)
        await open_card(phone)
        await check("watch, the product open (phone)", phone)
        sizes = card.locator("[data-variant-id]:not([disabled])")
        if await sizes.count():
            await sizes.first.click()
        await card.get_by_test_id("add-to-cart").click()
        await card.get_by_test_id("pin-view-cart").click()
        drawer = phone.get_by_test_id("cart-drawer")
        await expect(drawer.get_by_test_id("cart-line")).to_have_count(1)
        await check("watch, the cart (phone)", phone)
        await drawer.get_by_test_id("checkout").click()
        await expect(drawer.get_by_test_id("checkout-email")).to_be_visible()
        await check("watch, checkout (phone)", phone)

        await phone.get_by_test_id("cart-close").click()
        await expect(drawer).to_be_hidden()
        await host.open_poll(episode_id)
        await expect(phone.get_by_test_id("poll-card")).to_be_visible()
        await check("watch, a poll open (phone)", phone)
        await open_card(phone)
        await check("watch, the poll open (phone)", phone)
        await check("studio, live with a pin and a poll (laptop)", studio)
        # The host's cockpit: on a 1280x800 laptop, all they need on camera is on the first screen.
        first_screen = await studio.evaluate(
            """(ids) => ids.filter((id) => {
                const box = document.querySelector(`[data-testid=${id}]`).getBoundingClientRect();
                return box.height > 0 && box.top >= 0 && box.top < innerHeight - 40;
            })""",
            COCKPIT,
        )
        assert first_screen == COCKPIT, f"below the first screen: {set(COCKPIT) - set(first_screen)}"
        assert await studio.evaluate("() => document.documentElement.scrollHeight <= innerHeight")
        # Hosts also stream from a phone: the studio on a small one.
        small = {"width": 360, "height": 740}
        phone_studio = (
            await watched_page(await open_context("phone host", viewport=small, is_mobile=True, locale=locale))
        ).page
        await phone_studio.goto(f"{live_server.url}/studio/{episode_id}")
        await sign_in_by_ids(phone_studio, "host@demo.shopcast.test")
        await expect(phone_studio.get_by_test_id("studio-room")).to_be_visible()
        await check("studio, live (small phone)", phone_studio)

        # This viewer asked their system for reduced motion: cards appear without sliding in.
        still = await open_context("laptop viewer", viewport=LAPTOP, locale=locale, reduced_motion="reduce")
        laptop = (await watched_page(still)).page
        await laptop.goto(f"{live_server.url}/watch/{episode_id}")
        await expect(laptop.get_by_test_id("pin-card")).to_be_visible()
        await check("watch, live with a pin and a poll (laptop)", laptop)
        moving = await laptop.evaluate("() => document.getAnimations().map((a) => a.animationName || 'transition')")
        assert set(moving) <= {"fade"}, moving  # the reactions fade in place rather than rise

        # The host pins the next product from the keyboard alone: the focus on its button, then Enter.
        pin_next = studio.get_by_test_id("lineup-item").nth(1).get_by_test_id("pin-product")
        await pin_next.focus()
        await studio.keyboard.press("Enter")
        await expect(studio.get_by_test_id("lineup-item").nth(1).get_by_test_id("on-screen")).to_be_visible()
        await expect(laptop.get_by_test_id("pin-title")).to_have_text(lineup[1]["title"])

        await host.call("POST", f"/api/v1/episodes/{episode_id}/end")
        await phone.reload()
        await expect(phone.get_by_test_id("chat")).to_be_visible()
        await expect(phone.get_by_test_id("ended")).to_be_visible()
        await expect(phone.get_by_test_id("viewer-count")).to_be_hidden()
        # The end of a weekly show says when the next episode is, and links to it.
        following = (await coming_episodes(live_server))[0]
        next_episode = phone.get_by_test_id("next-episode")
        await expect(next_episode).to_contain_text(translate(lang, "watch.next_episode", time="").strip())
        await expect(next_episode).to_have_attribute("href", f"/watch/{following['id']}")
        await check("watch, after the show (phone)", phone)

    assert_none(found)


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
async def test_the_orders_tab_has_no_serious_accessibility_violation_on_a_laptop_or_a_phone(
    live_server: LiveServer, open_context: OpenContext, locale: str
) -> None:
    """The manager's orders: the list and its filters (one refused), an order open with its history, a move
    asked before it is made and one made; on a laptop and on a 360 px phone, from the keyboard."""
    _, (leas, toms, _) = await orders_during_a_show(live_server)
    lang = locale.split("-")[0]
    found: dict[str, list[str]] = {}
    for device, viewport in (("laptop", LAPTOP), ("small phone", {"width": 360, "height": 740})):
        context = await open_context(f"manager on a {device}", viewport=viewport, locale=locale)
        page = (await watched_page(context)).page
        await page.goto(f"{live_server.url}/manage?lang={lang}")
        await sign_in_by_ids(page, "manager@demo.shopcast.test")
        await expect(page.get_by_test_id("episode-list").locator("li").first).to_be_visible()
        # To the Orders tab and into the list with the keyboard alone.
        await page.get_by_test_id("tab-orders").focus()
        await page.keyboard.press("Enter")
        rows = page.get_by_test_id("order-row")
        await expect(rows).to_have_count(3)
        await expect(page.get_by_test_id("orders-total-count")).to_be_visible()
        found[f"orders, the list ({device})"] = await findings(page)

        await page.get_by_test_id("orders-from").fill("2026-12-31")
        await page.get_by_test_id("orders-to").fill("2026-01-01")
        await page.get_by_test_id("orders-apply").click()
        await expect(page.get_by_test_id("orders-filter-error")).not_to_be_empty()
        found[f"orders, the dates refused ({device})"] = await findings(page)
        await page.get_by_test_id("orders-clear").click()
        await expect(page.get_by_test_id("orders-filter-error")).to_be_empty()
        await expect(rows).to_have_count(3)

        row = rows.filter(has_text=toms["number"] if device == "laptop" else leas["number"])
        await row.focus()
        await page.keyboard.press("Enter")
        detail = page.get_by_test_id("order-detail")
        await expect(detail.get_by_test_id("order-title")).to_be_focused()
        await expect(detail.get_by_test_id("history-email")).not_to_have_count(0)
        found[f"orders, an order open ({device})"] = await findings(page)
        await detail.get_by_test_id("order-move-paid").focus()
        await page.keyboard.press("Enter")
        await expect(detail.get_by_test_id("order-keep")).to_be_focused()
        found[f"orders, a move asked ({device})"] = await findings(page)
        await page.keyboard.press("Shift+Tab")  # back to the confirming button
        await page.keyboard.press("Enter")
        await expect(detail.get_by_test_id("order-move-fulfilled")).to_be_visible()
        found[f"orders, an order paid ({device})"] = await findings(page)
    assert_none(found)


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
async def test_the_report_pages_have_no_serious_accessibility_violation(
    live_server: LiveServer, open_context: OpenContext, locale: str
) -> None:
    """An episode's report (its minutes' table open too) and its show's, on a laptop and on a phone."""
    from .test_manager_report import open_episode_report, seed_aired_episode

    await seed_aired_episode(live_server)
    found: dict[str, list[str]] = {}
    for device, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        watched = await watched_page(await open_context(f"report {locale} {device}", viewport=viewport, locale=locale))
        page = watched.page
        await open_episode_report(page, live_server, lambda p: sign_in_by_ids(p, "manager@demo.shopcast.test"))
        found[f"the episode's report ({device})"] = await findings(page)
        await page.get_by_test_id("table-minutes").locator("summary").click()
        found[f"the episode's report, its minutes open ({device})"] = await findings(page)
        await page.get_by_test_id("show-report-link").click()
        await expect(page.get_by_test_id("table-episodes")).to_be_visible()
        found[f"the show's report ({device})"] = await findings(page)
        watched.console.assert_clean()
    assert_none(found)
