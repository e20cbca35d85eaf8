"""The pages translated so far, in a French browser: every word the person reads is French, the
switcher turns the page English and the choice holds (docs/operations.md, "Languages")."""

from __future__ import annotations

import json
import re
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from shopcast import demo

from .conftest import BrowserPage, LiveServer, OpenContext, coming_episodes, open_card, watched_page
from .test_accessibility import plan_episodes, sign_in_by_ids
from .test_live_shopping import StaffApi
from .test_manager_orders import orders_during_a_show

pytestmark = pytest.mark.browser

LOCALES = Path(__file__).resolve().parents[2] / "shopcast" / "locales"
PHONE = {"width": 390, "height": 844}


def messages(code: str, prefixes: tuple[str, ...]) -> set[str]:
    """The language's messages under these keys, their placeholders cut off (the fixed words)."""
    catalogue = json.loads((LOCALES / f"{code}.json").read_text(encoding="utf-8"))
    found = set()
    for key, message in catalogue.items():
        if key.startswith(prefixes):
            for form in message.values() if isinstance(message, dict) else [message]:
                found |= {part.strip() for part in re.split(r"\{\w+\}", form) if len(part.strip()) > 3}
    return found


async def visible_text(page: Page) -> str:
    return await page.evaluate("() => document.body.innerText")


# The catalogue's areas the watch page and its scripts take their words from.
WATCH_KEYS = (
    "watch.",
    "chat.",
    "room.",
    "reactions.",
    "product.",
    "pin.",
    "cart.",
    "checkout.",
    "poll.",
    "giveaway.",
    "proof.",
    "draw.",
    "format.",
    "page.",
    "language.",
)
# The areas the studio and its scripts take their words from.
STUDIO_KEYS = (
    *WATCH_KEYS,
    "studio.",
    "studio_chat.",
    "studio_shop.",
    "lineup.",
    "studio_games.",
    "games.",
    "poll_form.",
    "giveaway_form.",
    "sign_in.",
)
# The areas the manager page and its scripts take their words from.
MANAGER_KEYS = (
    "manager.",
    "show_form.",
    "schedule.",
    "episodes.",
    "episode_form.",
    "manager_lineup.",
    "lineup.",
    "manager_games.",
    "catalog.",
    "product_form.",
    "product.",
    "emails.",
    "orders.",
    "webhooks.",
    "games.",
    "poll_form.",
    "giveaway_form.",
    "sign_in.",
    "format.",
    "page.",
    "language.",
    "api.",
)
# What the brand and the viewers wrote (titles, options, names, messages): shown as written.
WRITTEN = ", ".join(
    f"[data-testid={test_id}]"
    for test_id in (
        "show-title",
        "episode-title",
        "episode-host",
        "pin-title",
        "variant",
        "poll-question",
        "poll-label",
        "chat-author",
        "chat-text",
        "cart-line-title",
        "cart-line-label",
        "checkout-store",
        "store-address",
        "lineup-title",
        "variant-stock",
        "deal-product",
        "staff-poll-question",
        "account-name",
        "workspace-title",
        "show-description",
        "product-row-title",
        "episode-option",
        "order-row-buyer",
        "order-buyer-name",
        "order-buyer-email",
        "order-line-title",
        "order-line-label",
        "order-line-episode",
        "order-shipping",
        "history-email-subject",
        # Webhook event types (order.cancelled) are names for programs, the same in every language.
        "event-type",
    )
)


async def page_words(page: Page) -> str:
    """The visible text of the page without what the brand and the viewers wrote."""
    return await page.evaluate(
        """(written) => {
            let text = document.body.innerText;
            for (const node of document.querySelectorAll(written)) {
                const own = node.innerText.trim();
                if (own) text = text.split(own).join("\\n");
            }
            return text;
        }""",
        WRITTEN,
    )


def words_of(code: str, other: str, text: str, areas: tuple[str, ...] = WATCH_KEYS) -> list[str]:
    """The fixed words of `code`'s messages of these areas found in `text` (as words, whatever the
    case: a badge may be in capitals), but for those `other` language writes the same ("Total")."""
    same = {message.casefold() for message in messages(other, areas)}
    return sorted(
        message
        for message in messages(code, areas)
        if message.casefold() not in same and re.search(rf"(?<!\w){re.escape(message)}(?!\w)", text, re.IGNORECASE)
    )


async def assert_in(page: Page, code: str, state: str) -> None:
    assert await page.evaluate("() => document.documentElement.lang") == code, state
    other = "en" if code == "fr" else "fr"
    shown = await page_words(page)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], f"{state}: too wide"
    assert words_of(other, code, shown) == [], f"{state}:\n{shown}"


async def french_manager(open_context: OpenContext) -> BrowserPage:
    """A manager's laptop in a French browser."""
    laptop = {"width": 1280, "height": 800}
    return await watched_page(await open_context("french manager", viewport=laptop, locale="fr-FR"))


async def assert_manager_in_french(page: Page, state: str) -> None:
    """The manager page in French: none of its areas' English words, but for what people wrote."""
    assert await page.evaluate("() => document.documentElement.lang") == "fr", state
    shown = await page_words(page)
    assert words_of("en", "fr", shown, MANAGER_KEYS) == [], f"{state}:\n{shown}"


async def test_a_french_browser_reads_the_claim_page_in_french_and_can_switch(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    context = await open_context("french viewer", viewport=PHONE, is_mobile=True, locale="fr-FR")
    watched = await watched_page(context)
    page = watched.page
    url = f"{live_server.url}/claim/{uuid.uuid4()}"
    await page.goto(url)
    # No entry in this browser: the page says so, in French, with the page's own words around it.
    await expect(page.get_by_test_id("claim-status")).to_have_text(
        "Ouvrez ce lien dans le navigateur avec lequel vous avez participé\u00a0: il connaît votre participation."
    )
    assert await page.evaluate("() => document.documentElement.lang") == "fr"
    assert await page.title() == "Shopcast · Réclamer votre lot"
    shown = await visible_text(page)
    english = messages("en", ("claim.", "page.", "language."))
    assert not [m for m in english if m in shown], shown
    assert "Réclamer votre lot" in shown

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_test_id("claim-title")).to_have_text("Claim your prize")
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    await page.goto(url)  # the choice holds without ?lang=
    await expect(page.get_by_test_id("claim-status")).to_have_text(
        "Open this link in the browser you entered the giveaway with: it knows your entry."
    )
    watched.console.assert_clean()


async def test_a_french_browser_watches_the_show_in_french_and_an_english_one_in_english(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]
    url = f"{live_server.url}/watch/{episode_id}"
    context = await open_context("french viewer", viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
    page = (await watched_page(context)).page

    # Before the show: the countdown.
    await page.goto(url)
    await expect(page.get_by_test_id("countdown")).to_be_visible()
    await expect(page.get_by_test_id("countdown-value")).not_to_be_empty()
    await expect(page.get_by_test_id("nickname-form")).to_be_visible()
    await expect(page.get_by_test_id("episode-status")).to_have_text("À venir")
    assert await page.title() != "Shopcast · Live show"
    await assert_in(page, "fr", "before the show")

    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        await host.call("POST", f"/api/v1/episodes/{episode_id}/start")
        lineup: list[dict[str, Any]] = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup")
        dress = next(p for p in lineup if p["title"] == "Linen wrap dress")

        # Live, with a product pinned and a poll open.
        await expect(page.get_by_test_id("live-badge")).to_be_visible(timeout=15_000)
        await expect(page.get_by_test_id("viewer-count")).to_be_visible()
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": dress["id"]}, expect=201)
        card = page.get_by_test_id("pin-card")
        await expect(card).to_be_visible()
        price = card.get_by_test_id("pin-price")
        await expect(price).to_have_text(re.compile(r"^89,00\s€$"))
        await assert_in(page, "fr", "live, a product pinned")
        await open_card(page)
        await assert_in(page, "fr", "live, the product open")
        await page.keyboard.press("Escape")
        await host.open_poll(episode_id)
        await expect(page.get_by_test_id("poll-card")).to_be_visible()
        await expect(page.get_by_test_id("poll-status")).to_have_text("Touchez votre réponse")
        await assert_in(page, "fr", "live, a poll open")
        await open_card(page)
        await page.get_by_test_id("poll-option").first.click()
        await expect(page.get_by_test_id("poll-status")).to_contain_text("1 vote")
        await assert_in(page, "fr", "live, voted")

        # The product to the front again, in the cart, then the checkout.
        await page.get_by_test_id("chip-pin").click()
        await expect(card).to_be_visible()
        await card.locator("[data-variant-id]:not([disabled])").first.click()
        await card.get_by_role("button", name="Ajouter au panier").click()
        await card.get_by_role("button", name="Voir le panier").click()
        drawer = page.get_by_test_id("cart-drawer")
        await expect(drawer.get_by_test_id("cart-line")).to_have_count(1)
        await expect(drawer.get_by_test_id("cart-hold")).to_contain_text("Réservé pour vous pendant")
        await expect(drawer.get_by_test_id("cart-subtotal")).to_have_text(re.compile(r"^89,00\s€$"))
        await assert_in(page, "fr", "the cart")
        await drawer.get_by_role("button", name="Commander").click()
        await expect(drawer.get_by_label("E-mail")).to_be_visible()
        await expect(drawer.get_by_test_id("total")).to_be_visible()
        await expect(drawer.get_by_test_id("place-order")).to_contain_text("Passer la commande")
        await assert_in(page, "fr", "checkout")

        # An English browser, on the same live page: English only.
        english = await open_context("english viewer", viewport=PHONE, is_mobile=True, locale="en-GB")
        page = (await watched_page(english)).page
        await page.goto(url)
        await expect(page.get_by_test_id("live-badge")).to_be_visible()
        await expect(page.get_by_test_id("pin-card")).to_be_visible()
        await expect(page.get_by_test_id("pin-price")).to_have_text("€89.00")
        await assert_in(page, "en", "live, in English")
        await open_card(page)
        await page.get_by_test_id("chip-poll").click()
        await expect(page.get_by_test_id("poll-card")).to_be_visible()
        await assert_in(page, "en", "live, the poll in English")


async def test_a_french_host_runs_the_show_from_a_french_studio(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    episode_id = (await coming_episodes(live_server))[0]["id"]
    laptop = {"width": 1280, "height": 800}
    page = (await watched_page(await open_context("french host", viewport=laptop, locale="fr-FR"))).page
    async with aiohttp.ClientSession(base_url=live_server.url) as http:
        host = await StaffApi.sign_in(http, "host@demo.shopcast.test")
        await host.call("POST", f"/api/v1/episodes/{episode_id}/start")
        lineup: list[dict[str, Any]] = await host.call("GET", f"/api/v1/public/episodes/{episode_id}/lineup")

        await page.goto(f"{live_server.url}/studio/{episode_id}")
        assert await page.evaluate("() => document.documentElement.lang") == "fr"
        await page.get_by_test_id("email").fill("host@demo.shopcast.test")
        await page.get_by_test_id("password").fill(demo.PASSWORD)
        await page.get_by_test_id("sign-in-submit").click()
        await expect(page.get_by_test_id("studio-room")).to_be_visible()
        await expect(page.get_by_test_id("lineup-item").first).to_be_visible()
        await expect(page.get_by_test_id("variant-stock").first).to_have_text(re.compile(r"^.+\u00a0: \d+$"))
        await host.call("POST", f"/api/v1/episodes/{episode_id}/pin", {"product_id": lineup[0]["id"]}, expect=201)
        await expect(page.get_by_test_id("deal-form")).to_be_visible()
        # The suggested deal price (20 % off 89 €) in French figures, and a French price is read back.
        await expect(page.get_by_test_id("deal-price")).to_have_value("71,20")
        await page.get_by_test_id("deal-price").fill("69,90")
        await page.get_by_test_id("start-deal").click()
        await expect(page.get_by_test_id("deal-status")).to_contain_text("69,90")
        await host.open_poll(episode_id)
        await expect(page.get_by_test_id("staff-poll").first).to_be_visible()
        shown = await page_words(page)
        assert words_of("en", "fr", shown, STUDIO_KEYS) == [], shown


async def test_a_french_manager_plans_from_a_french_manager_page(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    watched = await french_manager(open_context)
    page = watched.page
    assert_french = partial(assert_manager_in_french, page)

    await page.goto(f"{live_server.url}/manage")
    assert await page.title() == "Shopcast · Planifier vos émissions en direct"
    await assert_french("signing in")
    await page.get_by_test_id("email").fill("manager@demo.shopcast.test")
    await page.get_by_test_id("password").fill(demo.PASSWORD)
    await page.get_by_test_id("sign-in-submit").click()

    # The show's episodes, its schedule in French words.
    await expect(page.get_by_test_id("show-title")).to_have_text(demo.SHOW_TITLE)
    episodes = page.get_by_test_id("episode")
    await expect(episodes.first).to_be_visible()
    await expect(episodes.first.get_by_test_id("episode-status")).to_have_text("Programmé")
    await expect(page.get_by_test_id("show-schedule")).to_have_text(re.compile(r"^Chaque mardi à 19:00 · "))
    await expect(page.get_by_test_id("brand-role")).to_have_text("Votre rôle\u00a0: responsable")
    await assert_french("the show's episodes")

    # The products.
    await page.get_by_test_id("tab-products").click()
    await expect(page.get_by_test_id("product-row")).to_have_count(3)
    await expect(page.get_by_test_id("edit-product").first).to_have_text("Modifier")
    await assert_french("the products")

    # The emails to buyers (none yet: nobody ordered).
    await page.get_by_test_id("tab-emails").click()
    await expect(page.get_by_test_id("no-emails")).to_be_visible()
    await expect(page.get_by_test_id("emails-refresh")).to_have_text("Actualiser")
    await assert_french("the emails")

    # The webhooks (none yet), and the form to add one.
    await page.get_by_test_id("tab-webhooks").click()
    await expect(page.get_by_test_id("no-endpoints")).to_be_visible()
    await page.get_by_test_id("new-endpoint").click()
    await expect(page.get_by_test_id("endpoint-form")).to_be_visible()
    await expect(page.get_by_label("Commande payée")).to_be_checked()
    await assert_french("the webhooks")
    await page.get_by_test_id("endpoint-form-cancel").click()

    # The new show's form.
    await page.get_by_test_id("tab-shows").click()
    await page.get_by_test_id("new-show").click()
    form = page.get_by_test_id("show-form")
    await expect(form).to_be_visible()
    await expect(form.get_by_test_id("show-form-summary")).to_have_text(re.compile(r"^Chaque \w+ à 19:00, fuseau "))
    await assert_french("the new show's form")
    await form.get_by_test_id("show-form-cancel").click()

    # An episode's polls and giveaways, both forms open.
    await page.get_by_test_id("games-button").first.click()
    panel = page.get_by_test_id("games-panel")
    await expect(panel.get_by_test_id("manager-polls-empty")).to_be_visible()
    await expect(panel.get_by_test_id("games-title")).to_contain_text("Sondages et tirages au sort · ")
    await panel.get_by_test_id("prepare-poll").locator("summary").click()
    await panel.get_by_test_id("prepare-giveaway").locator("summary").click()
    await expect(panel.get_by_test_id("prepare-poll-form")).to_be_visible()
    await assert_french("the polls and giveaways")

    # The show's form to change it, then every form and panel of the episodes (none sent).
    await page.get_by_test_id("edit-show").click()
    await expect(form.get_by_test_id("show-form-heading")).to_have_text("Modifier l\u2019émission")
    await expect(form.get_by_test_id("show-form-edit-hint")).to_be_visible()
    await assert_french("the show's form to change it")
    await form.get_by_test_id("show-form-cancel").click()
    await plan_episodes(page)
    await expect(page.get_by_test_id("lineup-notice")).to_contain_text("est dans la sélection")
    await assert_french("moving, cancelling and adding episodes, planning products")
    watched.console.assert_clean()


async def test_a_french_manager_works_through_the_orders_in_french(
    live_server: LiveServer, open_context: OpenContext
) -> None:
    episode, (leas, _, _) = await orders_during_a_show(live_server)
    watched = await french_manager(open_context)
    page = watched.page
    assert_french = partial(assert_manager_in_french, page)

    await page.goto(f"{live_server.url}/manage")
    await sign_in_by_ids(page, "manager@demo.shopcast.test")
    await page.get_by_role("button", name="Commandes", exact=True).click()
    rows = page.get_by_test_id("order-row")
    await expect(rows).to_have_count(3)
    # Ann's dress delivered (89 € + 4,90 €), Tom's crew-neck and Léa's tote: amounts written the French way.
    await expect(page.get_by_test_id("orders-totals")).to_have_text(
        re.compile(r"^3 commandes · 3 articles · 381,90\s€$")
    )
    await assert_french("the orders")

    await rows.filter(has_text=leas["number"]).click()
    detail = page.get_by_test_id("order-detail")
    await expect(detail.get_by_test_id("order-status")).to_have_text("En attente de paiement")
    await expect(detail.get_by_test_id("history-email")).to_have_count(1)
    await expect(detail.get_by_test_id("order-line-episode")).to_contain_text(demo.SHOW_TITLE)
    await assert_french("an order open")
    await detail.get_by_role("button", name="Marquer payée").click()
    await expect(detail.get_by_role("group")).to_contain_text(f"Marquer {leas['number']} payée\u202f?")
    await assert_french("a move asked")
    await detail.get_by_test_id("order-confirm").click()
    await expect(detail.get_by_test_id("order-status")).to_have_text("Payée")
    await expect(detail.get_by_test_id("history-change")).to_have_count(2)
    await expect(detail.get_by_test_id("order-payment-state")).to_contain_text("Payée ")
    await assert_french("an order paid")

    await page.get_by_label("Du", exact=True).fill("2026-12-31")
    await page.get_by_label("Au (inclus)").fill("2026-01-01")
    await page.get_by_role("button", name="Afficher ces commandes").click()
    await expect(page.get_by_test_id("orders-filter-error")).to_have_text(
        "Le premier jour vient après le dernier\u00a0: inversez-les."
    )
    await assert_french("the dates refused")
    await page.get_by_role("button", name="Toutes les commandes").click()
    await page.get_by_label("Épisode", exact=True).select_option(episode["id"])
    await page.get_by_label("État", exact=True).select_option("paid")
    await page.get_by_role("button", name="Afficher ces commandes").click()
    await expect(rows).to_have_count(1)
    await expect(page.get_by_test_id("orders-totals")).to_have_text(re.compile(r"^1 commande · 1 article · 159,00\s€$"))
    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Télécharger en CSV").click()
    assert (await downloading.value).suggested_filename.endswith(".csv")
    said = "Le fichier est téléchargé\u00a0: une ligne par article commandé."
    await expect(page.get_by_test_id("notice")).to_have_text(said)
    await assert_french("the file downloaded")
    watched.console.assert_clean()


REPORT_KEYS = ("report.", "sign_in.", "format.", "page.", "language.")


async def test_a_french_manager_reads_the_report_in_french(live_server: LiveServer, open_context: OpenContext) -> None:
    from .test_manager_report import open_episode_report, seed_aired_episode

    await seed_aired_episode(live_server)
    watched = await watched_page(await open_context("french report", viewport=PHONE, locale="fr-FR"))
    page = watched.page
    # What the brand wrote (its show's and products' names) is left out: only the page's own words count.
    written = [demo.SHOW_TITLE, *(p.title for p in demo.CATALOG)]

    async def assert_french(state: str) -> None:
        assert await page.evaluate("() => document.documentElement.lang") == "fr", state
        shown = await page.evaluate("() => document.body.innerText")
        for text in written:
            shown = shown.replace(text, "\n")
        assert words_of("en", "fr", shown, REPORT_KEYS) == [], f"{state}:\n{shown}"
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], state

    async def sign(p: Page) -> None:
        await p.get_by_test_id("email").fill("manager@demo.shopcast.test")
        await p.get_by_test_id("password").fill(demo.PASSWORD)
        await p.get_by_test_id("sign-in-submit").click()

    await open_episode_report(page, live_server, sign)
    await expect(page.get_by_test_id("report-kind")).to_have_text("Bilan de l\u2019épisode")
    await expect(page.get_by_test_id("csv-products")).to_have_text("Télécharger en CSV")
    assert await page.title() == f"Shopcast · Bilan · {demo.SHOW_TITLE}"
    await page.get_by_test_id("table-minutes").locator("summary").click()
    await assert_french("the episode's report")
    await page.get_by_test_id("show-report-link").click()
    await expect(page.get_by_test_id("report-kind")).to_have_text("Bilan de l\u2019émission")
    await assert_french("the show's report")
    watched.console.assert_clean()
