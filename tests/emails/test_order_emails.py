"""The buyer's emails, received by a real SMTP server: the confirmation the watch page promises, in
the page's language, then one for each step of the order; what users wrote is escaped."""

from __future__ import annotations

import pytest

from tests.catalog.conftest import DELIVERY, Shop
from tests.catalog.test_payments import SHOP_URL, confirm, confirmation
from tests.conftest import SettableClock
from tests.emails.conftest import emails, settled
from tests.emails.smtp_server import SmtpServer
from tests.problems import refused

FRENCH_PAGE = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
ENGLISH_PAGE = {"Accept-Language": "en-GB,en;q=0.9"}


async def test_the_confirmation_is_in_the_page_s_language_with_both_parts_and_stable_headers(
    shop: Shop, smtp: SmtpServer
) -> None:
    lea = await shop.guest()
    order = await shop.buy({**lea, **FRENCH_PAGE}, "lea-1")
    [received] = await smtp.wait_for(1)
    [listed] = await settled(shop, 1)

    email = received.email
    assert received.rcpt_tos == ["lea@example.com"] and received.mail_from == "shopcast@localhost"
    assert email["To"] == "Léa Martin <lea@example.com>" and email["From"] == "Acme <shopcast@localhost>"
    assert email["Subject"] == f"Votre commande {order['number']} chez Acme"
    assert email["Content-Language"] == "fr" and email["Auto-Submitted"] == "auto-generated"
    assert email["Message-ID"] == f"<{listed['id']}@localhost>" and email["Date"]
    assert email.get_content_type() == "multipart/alternative"

    for shown in (received.part("plain"), received.shown()):
        assert "Bonjour Léa Martin," in shown
        assert "1 \N{MULTIPLICATION SIGN} Linen dress · S" in shown
        assert "49,90\N{NO-BREAK SPACE}€" in shown
        assert "Vous payez au retrait de votre commande à Paris Marais." in shown
        assert "12 rue des Archives, Paris" in shown
    assert '<html lang="fr">' in received.part("html")
    assert "Articles\N{NO-BREAK SPACE}: 49,90\N{NO-BREAK SPACE}€" in received.part("plain")  # French spacing
    assert listed == {
        **listed,
        "to": "lea@example.com",
        "to_name": "Léa Martin",
        "subject": email["Subject"],
        "template": "order_confirmed",
        "language": "fr",
        "about": f"order:{order['id']}",
        "state": "sent",
        "attempts": 1,
        "next_try_at": None,
        "last_error": None,
    }


async def test_a_delivery_in_english_says_where_and_how_the_invoice_comes(shop: Shop, smtp: SmtpServer) -> None:
    tom = await shop.guest("Tom")
    order = await shop.buy(
        {**tom, **ENGLISH_PAGE}, "tom-1", "M", email="tom@example.com", name="Tom", shipping=DELIVERY
    )
    [received] = await smtp.wait_for(1)
    assert received.email["Subject"] == f"Your order {order['number']} from Acme"
    assert received.email["Content-Language"] == "en"
    text = received.part("plain")
    assert "Hello Tom," in text
    assert "Delivered to:\nTom\n3 rue Oberkampf\n75011 Paris\nFrance\n" in text
    assert "Delivery: €4.90" in text and "Total: €54.80" in text
    assert f"An invoice for order {order['number']} will be sent to tom@example.com." in text


async def test_without_a_language_from_the_page_the_brand_s_default_is_used(shop: Shop, smtp: SmtpServer) -> None:
    response = await shop.client.patch(
        "/api/v1/brands/acme", json={"default_language": "fr"}, headers=shop.room.manager.headers
    )
    assert response.status == 200, await response.text()
    await shop.buy(await shop.guest(), "lea-1")
    [received] = await smtp.wait_for(1)
    assert received.email["Content-Language"] == "fr"


async def test_what_users_wrote_is_escaped_in_the_html_part(shop: Shop, smtp: SmtpServer) -> None:
    title = '<script>alert("owned")</script> Dress & co'
    response = await shop.client.patch(
        f"/api/v1/products/{shop.product['id']}", json={"title": title}, headers=shop.room.manager.headers
    )
    assert response.status == 200, await response.text()
    lea = await shop.guest()
    await shop.buy(lea, "lea-1", name='Léa <img src=x onerror="alert(1)">')
    [received] = await smtp.wait_for(1)

    html = received.part("html")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; Dress &amp; co" in html
    assert "Léa &lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    # The text part is not HTML: it says what was written, as written.
    assert title in received.part("plain")


async def test_each_step_of_the_order_tells_the_buyer_once(shop: Shop, smtp: SmtpServer) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    pickup = await shop.buy(lea, "lea-1")
    delivery = await shop.buy(tom, "tom-1", "M", email="tom@example.com", name="Tom", shipping=DELIVERY)
    for order_id, status in [
        (pickup["id"], "paid"),
        (pickup["id"], "fulfilled"),
        (delivery["id"], "paid"),
        (delivery["id"], "fulfilled"),
    ]:
        response = await shop.move(order_id, status)
        assert response.status == 200, await response.text()
    # A move that makes no sense is refused and tells nobody anything.
    await refused(await shop.move(pickup["id"], "cancelled"), 409, "cannot become cancelled")

    await settled(shop, 6)
    subjects = {(r.rcpt_tos[0], r.email["Subject"]) for r in await smtp.wait_for(6)}
    assert subjects == {
        ("lea@example.com", f"Your order {pickup['number']} from Acme"),
        ("lea@example.com", f"Order {pickup['number']}: payment received"),
        ("lea@example.com", f"Order {pickup['number']} is ready for pickup"),
        ("tom@example.com", f"Your order {delivery['number']} from Acme"),
        ("tom@example.com", f"Order {delivery['number']}: payment received"),
        ("tom@example.com", f"Order {delivery['number']} has shipped"),
    }
    assert len(smtp.received) == 6
    ready = next(r for r in smtp.received if "ready for pickup" in r.email["Subject"])
    assert f"Your order {pickup['number']} is ready: collect it at Paris Marais." in ready.part("plain")
    about_lea = await emails(shop.client, shop.room.manager, query=f"?order_id={pickup['id']}")
    assert sorted(e["template"] for e in about_lea) == ["order_confirmed", "order_paid", "order_ready"]


@pytest.mark.parametrize("paid", [False, True])
async def test_a_cancelled_order_says_so_and_a_refund_only_when_it_was_paid(
    shop: Shop, smtp: SmtpServer, paid: bool
) -> None:
    order = await shop.buy({**await shop.guest(), **FRENCH_PAGE}, "lea-1")
    if paid:
        assert (await shop.move(order["id"], "paid")).status == 200
    assert (await shop.move(order["id"], "cancelled")).status == 200
    received = await smtp.wait_for(3 if paid else 2)
    cancelled = received[-1]
    assert cancelled.email["Subject"] == f"Commande {order['number']} annulée"
    assert ("Vous aviez déjà payé\N{NO-BREAK SPACE}: Acme vous remboursera." in cancelled.part("plain")) is paid


async def test_the_brand_shop_s_payment_tells_the_buyer_and_the_confirmation_links_to_the_shop(
    shop: Shop, smtp: SmtpServer, clock: SettableClock
) -> None:
    secret = (await shop.sell(shop_checkout_url=SHOP_URL))["shop_secret"]
    order = await shop.buy(await shop.guest(), "lea-1", payment="brand_shop")
    [confirmed] = await smtp.wait_for(1)
    assert order["payment"]["redirect_url"] in confirmed.part("plain")
    assert order["payment"]["redirect_url"].replace("&", "&amp;") in confirmed.part("html")
    assert "Finish paying on the brand's shop: the link below works for 24 hours." in confirmed.part("plain")

    token = confirmation(secret, order["id"], clock)
    assert (await confirm(shop, token)).status == 200
    assert (await confirm(shop, token)).status == 200  # told twice: paid once, one email
    await settled(shop, 2)
    assert [r.email["Subject"] for r in smtp.received] == [
        f"Your order {order['number']} from Acme",
        f"Order {order['number']}: payment received",
    ]


async def test_an_order_sent_again_with_its_key_is_confirmed_once(shop: Shop, smtp: SmtpServer) -> None:
    lea = await shop.guest()
    first = await shop.buy(lea, "lea-1")
    again = await shop.order(lea, "lea-1")
    assert again.status == 200 and (await again.json())["id"] == first["id"]
    await settled(shop, 1)
    assert len(await smtp.wait_for(1)) == 1


async def test_a_french_subject_keeps_its_no_break_space_before_the_colon(shop: Shop, smtp: SmtpServer) -> None:
    order = await shop.buy({**(await shop.guest()), **FRENCH_PAGE}, "lea-1")
    assert (await shop.move(order["id"], "paid")).status == 200
    received = await smtp.wait_for(2)
    assert received[1].email["Subject"] == f"Commande {order['number']}\N{NO-BREAK SPACE}: paiement reçu"
