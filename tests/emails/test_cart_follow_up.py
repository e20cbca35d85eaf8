"""A cart left after the show: the email typed at checkout, the episode over for the brand's delay, then
one follow-up email back to the cart and to the replay at the moment its product was shown, and with it
one `cart.abandoned` webhook to the brand's shop; never a second one, none once the order is placed,
none to an address that unsubscribed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shopcast.catalog import abandoned
from shopcast.core.db import Database, create_engine
from shopcast.core.security import token_signer
from shopcast.core.settings import Settings
from shopcast.reminders.contacts import Links
from tests.catalog.conftest import Shop
from tests.conftest import SettableClock, make_settings
from tests.emails.conftest import OUTBOX
from tests.emails.smtp_server import SmtpServer
from tests.problems import refused
from tests.reminders.conftest import SITE, quiet, site_path, unsubscribe_link
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver, receiver  # noqa: F401  (the brand's shop on 127.0.0.1)

FRENCH_PAGE = {"Accept-Language": "fr-FR,fr;q=0.9"}


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any], smtp: SmtpServer) -> Settings:
    return make_settings(
        tmp_path,
        **backend,
        **OUTBOX,
        outbox_sweep_seconds=0.02,
        smtp_url=smtp.url,
        public_url=SITE,
        # The brand's shop listens on 127.0.0.1.
        webhooks_allow_http=True,
        webhooks_allow_private=True,
    )


async def typed(shop: Shop, headers: dict[str, str], email: str = "lea@example.com") -> None:
    """The viewer typed their email at checkout (the watch page sends it when the field is left)."""
    response = await shop.client.put("/api/v1/brands/acme/cart/email", json={"email": email}, headers=headers)
    assert response.status == 204, await response.text()


async def left_in_cart(shop: Shop, clock: SettableClock, *, email: str = "lea@example.com", **page: str) -> Any:
    """A viewer puts the pinned dress in their cart 90 s into the live and types their email, no more."""
    lea = {**(await shop.guest()), **page}
    assert (await shop.add(lea)).status == 201
    await typed(shop, lea, email)
    return lea


async def end(shop: Shop) -> None:
    ended = await shop.client.post(f"/api/v1/episodes/{shop.episode_id}/end", headers=shop.room.host.headers)
    assert ended.status == 200, await ended.text()


async def listening(shop: Shop, receiver: Receiver) -> tuple[Hooks, dict[str, Any]]:  # noqa: F811
    """The brand's shop, told of abandoned carts."""
    hooks = Hooks(shop.client, shop.room.manager)
    return hooks, await hooks.add(receiver.url(), ["cart.abandoned"])


async def abandoned_carts(receiver: Receiver, endpoint: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: F811
    """The carts the shop was told of, as it verified them."""
    told = [r.verify(endpoint["secret"]) for r in receiver.accepted("shop")]
    assert {t["type"] for t in told} <= {"cart.abandoned"}
    return [t["data"] for t in told]


async def test_one_follow_up_back_to_the_cart_and_to_the_replay_where_the_product_was_shown(
    shop: Shop,
    smtp: SmtpServer,
    clock: SettableClock,
    receiver: Receiver,  # noqa: F811
) -> None:
    hooks, endpoint = await listening(shop, receiver)
    clock.advance(seconds=90)
    await shop.pin()
    await left_in_cart(shop, clock, **FRENCH_PAGE)
    await end(shop)
    clock.advance(minutes=59)
    await quiet(smtp, 0)

    clock.advance(minutes=1)
    [received] = await smtp.wait_for(1)
    email = received.email
    assert received.rcpt_tos == ["lea@example.com"]
    assert email["Subject"] == "Votre panier chez Acme vous attend" and email["Content-Language"] == "fr"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and unsubscribe_link(received)
    text = received.part("plain")
    assert "1 \N{MULTIPLICATION SIGN} Linen dress · S\N{NO-BREAK SPACE}: 49,90\N{NO-BREAK SPACE}€" in text
    replay = f"{SITE}/watch/{shop.episode_id}?t=90"
    assert f"Le revoir dans le replay\N{NO-BREAK SPACE}: {replay}" in text
    assert f"{SITE}/watch/{shop.episode_id}?cart=open" in text
    assert f'href="{replay}"' in received.part("html")

    listed = await shop.client.get("/api/v1/brands/acme/emails", headers=shop.room.manager.headers)
    [follow_up] = await listed.json()
    assert (follow_up["template"], follow_up["to_name"]) == ("cart_follow_up", "")
    assert follow_up["about"].startswith("cart:")

    # The shop is told once, with what the email shows.
    [delivery] = await hooks.settled(endpoint, 1)
    assert (delivery["event"], delivery["state"], delivery["about"]) == ("cart.abandoned", "sent", follow_up["about"])
    [cart] = await abandoned_carts(receiver, endpoint)
    assert f"cart:{cart['cart_id']}" == follow_up["about"]
    assert (cart["email"], cart["name"], cart["episode_id"]) == ("lea@example.com", "", shop.episode_id)
    assert cart["cart_url"] == f"{SITE}/watch/{shop.episode_id}?cart=open"
    [line] = cart["items"]
    dress = shop.variant("S")
    assert (line["variant_id"], line["sku"], line["quantity"]) == (dress["id"], dress["sku"], 1)
    assert (line["title"], line["label"], line["unit_price"]) == ("Linen dress", "S", 4990)
    assert (cart["subtotal"], cart["currency"]) == (4990, "EUR")

    # Never a second one, whatever time passes.
    clock.advance(days=1)
    await quiet(smtp, 1)
    assert len(receiver.received) == 1


async def test_no_follow_up_once_the_order_is_placed_nor_before_the_episode_ends(
    shop: Shop,
    smtp: SmtpServer,
    clock: SettableClock,
    receiver: Receiver,  # noqa: F811
) -> None:
    hooks, endpoint = await listening(shop, receiver)
    lea = await left_in_cart(shop, clock)
    await left_in_cart(shop, clock, email="tom@example.com")
    await shop.placed(lea, "lea-1")
    [confirmation] = await smtp.wait_for(1)
    assert confirmation.email["Subject"].startswith("Your order")
    clock.advance(hours=3)  # the episode is still live: nothing yet
    await quiet(smtp, 1)

    await end(shop)
    clock.advance(hours=2)
    [_, follow_up] = await smtp.wait_for(2)
    assert follow_up.rcpt_tos == ["tom@example.com"]
    await quiet(smtp, 2)
    await hooks.settled(endpoint, 1)
    assert [cart["email"] for cart in await abandoned_carts(receiver, endpoint)] == ["tom@example.com"]


async def test_a_cart_changed_after_the_show_waits_and_an_unsubscribed_address_gets_nothing(
    shop: Shop,
    smtp: SmtpServer,
    clock: SettableClock,
    receiver: Receiver,  # noqa: F811
) -> None:
    hooks, endpoint = await listening(shop, receiver)
    await left_in_cart(shop, clock)
    zoe = await left_in_cart(shop, clock)  # the same address, on another device
    await end(shop)
    clock.advance(minutes=30)
    cart = await shop.cart(zoe)
    changed = await shop.client.patch(
        f"/api/v1/brands/acme/cart/items/{cart['items'][0]['id']}", json={"quantity": 2}, headers=zoe
    )
    assert changed.status == 200, await changed.text()
    clock.advance(minutes=30)
    [first] = await smtp.wait_for(1)
    done = await shop.client.post(site_path(unsubscribe_link(first)))
    assert done.status == 200

    [told] = await hooks.settled(endpoint, 1)

    clock.advance(minutes=30)  # Zoe's cart is due now: its address unsubscribed
    await quiet(smtp, 1)
    assert await hooks.deliveries(endpoint) == [told] and len(receiver.received) == 1


async def test_a_brand_without_follow_ups_sends_none_and_an_email_needs_a_signed_in_viewer(
    shop: Shop,
    smtp: SmtpServer,
    clock: SettableClock,
    receiver: Receiver,  # noqa: F811
) -> None:
    hooks, endpoint = await listening(shop, receiver)
    response = await shop.client.patch(
        "/api/v1/brands/acme", json={"cart_follow_up_minutes": None}, headers=shop.room.manager.headers
    )
    assert response.status == 200 and (await response.json())["cart_follow_up_minutes"] is None
    lea = await left_in_cart(shop, clock)
    await end(shop)
    clock.advance(hours=2)
    await quiet(smtp, 0)
    assert await hooks.deliveries(endpoint) == [] and receiver.received == []

    bad = await shop.client.put("/api/v1/brands/acme/cart/email", json={"email": "lea@"}, headers=lea)
    await refused(bad, 422, "email")
    nobody = await shop.client.put("/api/v1/brands/acme/cart/email", json={"email": "lea@example.com"})
    await refused(nobody, 401, "sign in")


async def test_workers_sweeping_together_follow_a_cart_up_once(
    shop: Shop,
    smtp: SmtpServer,
    clock: SettableClock,
    settings: Settings,
    receiver: Receiver,  # noqa: F811
) -> None:
    hooks, endpoint = await listening(shop, receiver)
    for number in range(5):
        await left_in_cart(shop, clock, email=f"viewer{number}@example.com")
    await end(shop)
    clock.advance(hours=1)
    links = Links(settings.site_url, token_signer(settings, clock))
    databases = [Database(create_engine(settings.effective_database_url)) for _ in range(2)]
    try:
        await asyncio.gather(*(abandoned.sweep(db, now=clock.now(), links=links) for db in databases))
    finally:
        for db in databases:
            await db.close()
    received = await smtp.wait_for(5)
    await quiet(smtp, 5)
    assert sorted(r.rcpt_tos[0] for r in received) == [f"viewer{n}@example.com" for n in range(5)]
    await hooks.settled(endpoint, 5)
    told = await abandoned_carts(receiver, endpoint)
    assert sorted(cart["email"] for cart in told) == [f"viewer{n}@example.com" for n in range(5)]
    assert len({cart["cart_id"] for cart in told}) == 5
