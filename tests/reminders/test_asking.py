"""Asking for a reminder: the consent is kept with its time, its words and their language; asking twice
is asking once; bad addresses, a missing consent or other words are refused; a client address asking
too often is slowed down; the brand's delays are settings its manager alone changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shopcast.core.catalogues import translate
from shopcast.core.db import Database
from shopcast.reminders.models import Contact, EpisodeReminder
from tests.conftest import DEFAULT_NOW
from tests.emails.smtp_server import SmtpServer
from tests.problems import refused
from tests.reminders.conftest import FRENCH_PAGE, STARTS_AT, Audience, quiet


async def kept(database: Database) -> list[tuple[EpisodeReminder, Contact]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(EpisodeReminder, Contact).join(Contact, Contact.id == EpisodeReminder.contact_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_the_consent_is_kept_with_its_time_words_and_language_and_asking_twice_is_asking_once(
    audience: Audience, database: Database, smtp: SmtpServer
) -> None:
    words = translate("fr", "reminders.consent")
    first = await audience.reminded(" Lea@Example.COM ", headers=FRENCH_PAGE, consent_text=f"  {words}\n ")
    audience.clock.advance(hours=1)
    again = await audience.reminded("lea@example.com")  # from an English page, an hour later
    assert again == first and first["consent_at"] == "2026-09-20T10:00:00Z"

    [(reminder, contact)] = await kept(database)
    assert contact.email == "lea@example.com" and contact.unsubscribed_at is None
    assert (reminder.consent_text, reminder.language, reminder.consent_at) == (words, "fr", DEFAULT_NOW)
    assert words.startswith("Envoyez-moi un rappel par e-mail")

    audience.at(STARTS_AT, minutes=-5)
    [received] = await smtp.wait_for(1)
    assert received.email["Content-Language"] == "fr"
    await quiet(smtp, 1)


async def test_without_a_language_from_the_page_the_brand_s_default_is_used(
    audience: Audience, database: Database
) -> None:
    assert (await audience.brand(default_language="fr")).status == 200
    reminder = await audience.reminded(headers={"Accept-Language": "de-DE"})
    assert reminder["language"] == "fr"
    [(kept_reminder, _)] = await kept(database)
    assert kept_reminder.consent_text == translate("fr", "reminders.consent")


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"email": "not-an-email", "consent": True}, "email", "email address"),
        ({"email": "lea@", "consent": True}, "email", "email address"),
        ({"email": "lea smith@example.com", "consent": True}, "email", "email address"),
        ({"email": "", "consent": True}, "email", "email address"),
        ({"email": "lea@example.com"}, "consent", "required"),
        ({"email": "lea@example.com", "consent": False}, "consent", "only with your consent"),
        ({"email": "lea@example.com", "consent": "yes"}, "consent", "boolean"),
    ],
)
async def test_a_bad_address_or_no_consent_is_refused_and_nothing_is_kept(
    audience: Audience, database: Database, body: dict[str, object], field: str, reason: str
) -> None:
    response = await audience.client.post(f"/api/v1/public/episodes/{audience.episode_id}/reminders", json=body)
    problem = await refused(response, 422, field)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert reason in problem["errors"][0]["reason"]
    assert await kept(database) == []


async def test_words_other_than_the_page_s_consent_are_refused(audience: Audience, database: Database) -> None:
    english = translate("en", "reminders.consent")
    # The English words sent from a French page: not what that page shows.
    await refused(await audience.remind(consent_text=english, headers=FRENCH_PAGE), 422, "consent_text")
    await refused(await audience.remind(consent_text="Send me anything"), 422, "consent_text")
    assert await kept(database) == []
    assert (await audience.remind(consent_text=english)).status == 201


async def test_an_unknown_episode_is_not_found(audience: Audience) -> None:
    response = await audience.remind(episode_id="3f0c1d5e-8a3b-4c7e-9d2a-1b2c3d4e5f60")
    await refused(response, 404, "no episode")


async def test_a_client_address_asking_too_often_is_slowed_down(audience: Audience) -> None:
    for number in range(10):
        assert (await audience.remind(f"viewer{number}@example.com")).status == 201
    response = await audience.remind("one-more@example.com")
    problem = await refused(response, 429, "too many reminder requests")
    assert response.headers["Retry-After"] == "600" and problem["retry_after"] == 600
    audience.clock.advance(seconds=600)
    assert (await audience.remind("one-more@example.com")).status == 201


async def test_the_brand_s_delays_are_its_manager_s_settings(audience: Audience) -> None:
    brand = await (await audience.brand()).json()
    assert (brand["reminder_lead_minutes"], brand["cart_follow_up_minutes"]) == (15, 60)
    changed = await (await audience.brand(reminder_lead_minutes=5, cart_follow_up_minutes=None)).json()
    assert (changed["reminder_lead_minutes"], changed["cart_follow_up_minutes"]) == (5, None)
    unchanged = await (await audience.brand(name="Acme Paris")).json()
    assert (unchanged["reminder_lead_minutes"], unchanged["cart_follow_up_minutes"]) == (5, None)
    for bad in ({"reminder_lead_minutes": 0}, {"reminder_lead_minutes": 1441}, {"cart_follow_up_minutes": 9}):
        await refused(await audience.brand(**bad), 422, next(iter(bad)))
    response = await audience.client.patch(
        "/api/v1/brands/acme", json={"reminder_lead_minutes": 30}, headers=audience.host.headers
    )
    await refused(response, 403, "manager")


async def test_a_french_page_is_told_why_in_french(audience: Audience) -> None:
    unticked = await audience.remind(consent=False, headers=FRENCH_PAGE)
    reason = "cochez la case\N{NO-BREAK SPACE}: les rappels ne partent qu\N{RIGHT SINGLE QUOTATION MARK}avec"
    problem = await refused(unticked, 422, reason)
    assert problem["errors"] == [{"field": "consent", "reason": f"{reason} votre consentement"}]
    await audience.act("cancel")
    cancelled = await audience.remind(headers=FRENCH_PAGE)
    await refused(cancelled, 409, "l\N{RIGHT SINGLE QUOTATION MARK}épisode a été annulé")
