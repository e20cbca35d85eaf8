"""A giveaway's winner who gave the brand an email (with an order, or at checkout) is emailed their claim
link as soon as they are drawn, in that language; a winner who gave none is told only on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shopcast.contests.models import GiveawayWinner
from shopcast.core.db import Database
from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop
from tests.chat.conftest import Join
from tests.conftest import make_settings
from tests.contests.conftest import Giveaways, giveaways  # noqa: F401  (the giveaways' fixture)
from tests.emails.conftest import OUTBOX
from tests.emails.smtp_server import SmtpServer
from tests.reminders.conftest import SITE, quiet


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any], smtp: SmtpServer) -> Settings:
    return make_settings(tmp_path, **backend, **OUTBOX, outbox_sweep_seconds=0.02, smtp_url=smtp.url, public_url=SITE)


async def test_the_winners_who_gave_an_email_get_their_claim_link_in_their_language(
    shop: Shop,
    join: Join,
    giveaways: Giveaways,  # noqa: F811
    smtp: SmtpServer,
    database: Database,
) -> None:
    lea, tom, zoe = await join("Lea"), await join("Tom"), await join("Zoe")
    as_lea = {"Authorization": f"Bearer {lea.token}", "Accept-Language": "fr-FR,fr"}
    await shop.buy(as_lea, "lea-1")  # Léa gave her email with an order from a French page
    as_zoe = {"Authorization": f"Bearer {zoe.token}"}
    assert (await shop.add(as_zoe)).status == 201
    response = await shop.client.put(
        "/api/v1/brands/acme/cart/email", json={"email": "zoe@example.com"}, headers=as_zoe
    )
    assert response.status == 204  # Zoé typed hers at checkout, without ordering
    [confirmation] = await smtp.wait_for(1)

    giveaway = await giveaways.opened(winners=3, claim_hours=24, eligibility={"present_at_draw": False})
    for viewer in (lea, tom, zoe):
        await giveaways.enter(viewer, giveaway)
    await giveaways.done(giveaway, "close")
    await giveaways.done(giveaway, "draw")

    received = (await smtp.wait_for(3))[1:]
    await quiet(smtp, 3)  # Tom gave no email: the page tells him, nothing else can
    by_address = {r.rcpt_tos[0]: r for r in received}
    assert set(by_address) == {"lea@example.com", "zoe@example.com"}
    french, english = by_address["lea@example.com"], by_address["zoe@example.com"]
    claim_url = f"{SITE}/claim/{giveaway['id']}"
    assert french.email["Subject"] == "Vous avez gagné\N{NO-BREAK SPACE}: The silk scarf"
    assert french.email["To"] == "Lea <lea@example.com>" and french.email["Content-Language"] == "fr"
    assert "Bonjour Lea," in french.part("plain") and claim_url in french.part("plain")
    assert f'href="{claim_url}"' in french.part("html")
    # 24 hours from the draw, in the show's time zone.
    assert "Réclamez-le avant le lundi 21 septembre 2026 à 12:00" in french.part("plain")
    assert english.email["Subject"] == "You won: The silk scarf" and claim_url in english.part("plain")
    assert "List-Unsubscribe" not in english.email  # an answer to their own entry, not a reminder

    async with database.transaction() as session:
        told = list(await session.scalars(select(GiveawayWinner.told_at)))
    assert len(told) == 3 and all(at is not None for at in told)
    assert confirmation.email["Subject"].startswith("Votre commande")
