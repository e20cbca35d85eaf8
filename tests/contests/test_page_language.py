"""A brand's default language: its manager sets it, and a visitor whose browser asks for no
language Shopcast has reads the brand's pages in it (here the prize claim page, translated)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.contests.conftest import Giveaways, Room
from tests.factories import Factory
from tests.problems import refused

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


async def test_the_brand_s_language_serves_browsers_asking_for_none_we_have(
    giveaways: Giveaways, room: Room, client: Any, factory: Factory
) -> None:
    giveaway = await giveaways.prepare()
    claim = f"/claim/{giveaway['id']}"
    assert '<html lang="en">' in await (await client.get(claim, headers=GERMAN)).text()

    changed = await client.patch("/api/v1/brands/acme", json={"default_language": "fr"}, headers=room.manager.headers)
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["default_language"] == "fr"
    me = await (await client.get("/api/v1/me", headers=room.host.headers)).json()
    assert me["memberships"][0]["brand"]["default_language"] == "fr"

    assert '<html lang="fr">' in await (await client.get(claim, headers=GERMAN)).text()
    # The visitor's own languages and choice still come first.
    assert '<html lang="en">' in await (await client.get(claim, headers={"Accept-Language": "en-GB"})).text()
    assert '<html lang="en">' in await (await client.get(f"{claim}?lang=en", headers=GERMAN)).text()
    # A giveaway that does not exist has no brand: English.
    client.session.cookie_jar.clear()
    assert '<html lang="en">' in await (await client.get(f"/claim/{uuid.uuid4()}", headers=GERMAN)).text()


async def test_only_the_brand_s_managers_change_it_and_only_to_a_language_we_have(
    room: Room, client: Any, factory: Factory
) -> None:
    path = "/api/v1/brands/acme"
    await refused(
        await client.patch(path, json={"default_language": "de"}, headers=room.manager.headers), 422, "one of en, fr"
    )
    for who in (room.host, room.moderator):
        response = await client.patch(path, json={"default_language": "fr"}, headers=who.headers)
        await refused(response, 403, "this needs the manager role")
    guest = await factory.guest("Lea")
    await refused(await client.patch(path, json={"name": "Mine"}, headers=guest), 403, "guests cannot do this")
    renamed = await client.patch(path, json={"name": "  Acme Paris "}, headers=room.manager.headers)
    assert (await renamed.json()) | {"id": None} == {
        "id": None,
        "slug": "acme",
        "name": "Acme Paris",
        "default_language": "en",
        "reminder_lead_minutes": 15,
        "cart_follow_up_minutes": 60,
    }
