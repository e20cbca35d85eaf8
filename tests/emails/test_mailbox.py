"""Without an SMTP server (as with `make run`): each email is kept as an .eml file in the data folder,
and the brand's managers list and read them, headers and both parts; no one else does."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from shopcast.accounts import service as accounts
from shopcast.core.db import Database
from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop
from tests.conftest import SettableClock, make_settings
from tests.emails.conftest import OUTBOX, emails, settled
from tests.problems import refused


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, **backend, **OUTBOX)


async def kept_file(database: Database, data_dir: Path, email_id: str) -> Path:
    async with database.transaction() as session:
        brand = await accounts.get_brand(session, slug="acme")
    return data_dir / "mail" / str(brand.id) / f"{email_id}.eml"


async def test_each_email_is_kept_as_an_eml_file_and_its_manager_reads_it(
    shop: Shop, settings: Settings, database: Database
) -> None:
    order = await shop.buy({**await shop.guest(), "Accept-Language": "fr"}, "lea-1")
    [listed] = await settled(shop, 1)
    assert listed["state"] == "sent" and listed["template"] == "order_confirmed"

    path = await kept_file(database, settings.data_dir, listed["id"])
    kept = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert kept["Message-ID"] == f"<{listed['id']}@localhost>"
    assert kept["Subject"] == f"Votre commande {order['number']} chez Acme"
    assert b"\r\n" in path.read_bytes()  # RFC 5322 lines, as SMTP would carry them

    response = await shop.client.get(f"/api/v1/emails/{listed['id']}", headers=shop.room.manager.headers)
    assert response.status == 200, await response.text()
    view = await response.json()
    assert view["kept"] is True
    headers = {h["name"]: h["value"] for h in view["headers"]}
    assert headers["To"] == "Léa Martin <lea@example.com>" and headers["Message-ID"] == kept["Message-ID"]
    assert headers["Content-Language"] == "fr"
    assert view["text"] == kept.get_body(preferencelist=("plain",)).get_content()
    assert view["html"] == kept.get_body(preferencelist=("html",)).get_content()
    assert "Bonjour Léa Martin," in view["text"] and '<html lang="fr">' in view["html"]

    # The HTML part alone, for the page's sandboxed frame: nothing of it can run.
    frame = await shop.client.get(view["html_url"])
    assert frame.status == 200 and frame.content_type == "text/html"
    assert await frame.text() == view["html"]
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_the_html_link_is_for_one_email_and_a_few_minutes(shop: Shop, clock: SettableClock) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    await shop.buy(lea, "lea-1")
    await shop.buy(tom, "tom-1", email="tom@example.com")
    first, second = await settled(shop, 2)
    view = await (await shop.client.get(f"/api/v1/emails/{first['id']}", headers=shop.room.manager.headers)).json()
    token = view["html_url"].partition("?token=")[2]

    await refused(await shop.client.get(f"/api/v1/emails/{second['id']}/html?token={token}"), 401, "another email")
    await refused(await shop.client.get(f"/api/v1/emails/{first['id']}/html?token=forged"), 401, "not valid")
    await refused(await shop.client.get(f"/api/v1/emails/{first['id']}/html"), 422, "token")
    # A bearer token is not a link, nor a link a bearer token.
    bearer = shop.room.manager.token
    await refused(await shop.client.get(f"/api/v1/emails/{first['id']}/html?token={bearer}"), 401, "not valid")
    as_bearer = await shop.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    await refused(as_bearer, 401, "not valid")

    clock.advance(minutes=11)
    await refused(await shop.client.get(view["html_url"]), 401, "expired")


async def test_only_the_brand_s_managers_see_its_emails(shop: Shop) -> None:
    buyer = await shop.guest("Lea")
    order = await shop.buy(buyer, "lea-1")
    [email] = await settled(shop, 1)
    rival = await shop.rival("globex")
    one = f"/api/v1/emails/{email['id']}"
    listing = "/api/v1/brands/acme/emails"

    await refused(await shop.client.get(listing, headers=rival.manager.headers), 403, "no role in this brand")
    await refused(await shop.client.get(one, headers=rival.manager.headers), 404, "no email")
    assert await emails(shop.client, rival.manager, brand="globex") == []
    for staff in (shop.room.host, shop.room.moderator):
        await refused(await shop.client.get(listing, headers=staff.headers), 403, "needs the manager role")
        await refused(await shop.client.get(one, headers=staff.headers), 403, "needs the manager role")
    # The buyer reads their emails in their own mailbox, not here.
    await refused(await shop.client.get(listing, headers=buyer), 403, "guests cannot")
    await refused(await shop.client.get(one, headers=buyer), 404, "no email")
    await refused(await shop.client.get(listing), 401, "sign in")
    await refused(await shop.client.get(one), 401, "sign in")
    await refused(await shop.client.get(f"/api/v1/emails/{order['id']}", headers=shop.room.manager.headers), 404, "")
