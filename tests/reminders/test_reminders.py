"""A viewer taps "Remind me": the reminder arrives shortly before the start, "we're live" at go-live, each
with a working unsubscribe link (a page that asks, and RFC 8058's one-click POST); a moved episode is
reminded of at its new time, a cancelled one sends a notice instead; the app's clock drives time."""

from __future__ import annotations

import asyncio
from datetime import datetime

from shopcast.core.catalogues import translate
from shopcast.core.db import Database, create_engine
from shopcast.core.security import token_signer
from shopcast.core.settings import Settings
from shopcast.reminders.contacts import Links
from shopcast.reminders.sweep import sweep
from tests.emails.smtp_server import SmtpServer
from tests.reminders.conftest import (
    FRENCH_PAGE,
    SITE,
    STARTS_AT,
    Audience,
    quiet,
    site_path,
    subjects,
    unsubscribe_link,
)

ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_the_reminder_comes_shortly_before_the_start_then_we_re_live_each_with_one_click_unsubscribe(
    audience: Audience, smtp: SmtpServer
) -> None:
    reminder = await audience.reminded(headers=FRENCH_PAGE)
    assert reminder == {
        "episode_id": audience.episode_id,
        "email": "lea@example.com",
        "language": "fr",
        "remind_at": "2026-09-22T16:45:00Z",
        "starts_at": "2026-09-22T17:00:00Z",
        "consent_at": "2026-09-20T10:00:00Z",
    }
    await quiet(smtp, 0)
    audience.at(STARTS_AT, minutes=-15, seconds=-1)
    await quiet(smtp, 0)

    audience.at(STARTS_AT, minutes=-15)
    [received] = await smtp.wait_for(1)
    email = received.email
    assert received.rcpt_tos == ["lea@example.com"]
    assert email["Subject"] == "Bientôt en direct\N{NO-BREAK SPACE}: Tuesday Night Live à 19:00"
    assert email["From"] == "Acme <shopcast@localhost>" and email["Content-Language"] == "fr"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(received)
    assert link.startswith(f"{SITE}/unsubscribe?token=") and link.endswith("&lang=fr")
    for shown in (received.part("plain"), received.shown()):
        assert "Tuesday Night Live commence le mardi 22 septembre 2026 à 19:00" in shown
    assert f"{SITE}/watch/{audience.episode_id}" in received.part("plain")
    assert f'href="{SITE}/watch/{audience.episode_id}"' in received.part("html")
    await quiet(smtp, 1)  # once

    await audience.act("start")
    [_, live] = await smtp.wait_for(2)
    assert live.email["Subject"] == "Tuesday Night Live est en direct"
    assert "vient de commencer" in live.part("plain") and unsubscribe_link(live)
    await quiet(smtp, 2)


async def test_the_link_s_page_asks_first_then_one_click_unsubscribes_and_nothing_more_comes(
    audience: Audience, smtp: SmtpServer
) -> None:
    await audience.reminded(headers=FRENCH_PAGE)
    audience.at(STARTS_AT, minutes=-5)
    [received] = await smtp.wait_for(1)
    link = site_path(unsubscribe_link(received))

    # Opening the link (a person, or a mail scanner following it) only asks, in the email's language.
    page = await audience.client.get(link)
    assert page.status == 200 and page.headers["Content-Language"] == "fr"
    html = await page.text()
    assert '<html lang="fr">' in html and 'data-testid="unsubscribe-confirm"' in html
    assert translate("fr", "unsubscribe.heading", brand="Acme") in html
    assert "lea@example.com" in html and '<form method="post">' in html

    # What a mail provider sends for its "Unsubscribe" button (RFC 8058): a POST to the same address.
    done = await audience.client.post(link, data="List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert done.status == 200
    assert translate("fr", "unsubscribe.done") in await done.text()
    again = await audience.client.post(link, data="List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert again.status == 200  # the same answer: nothing left to do
    assert translate("fr", "unsubscribe.done") in await (await audience.client.get(link)).text()

    # Asking again for this or another episode records it, and still sends nothing: the brand was told no.
    await audience.reminded(headers=FRENCH_PAGE)
    await audience.reminded(episode_id=audience.episodes[1]["id"])
    await audience.act("start")
    await quiet(smtp, 1)
    audience.at(datetime.fromisoformat("2026-09-29T16:50:00+00:00"))
    await quiet(smtp, 1)


async def test_opening_the_link_unsubscribes_nobody_and_a_broken_link_says_so(
    audience: Audience, smtp: SmtpServer
) -> None:
    await audience.reminded()
    audience.at(STARTS_AT, minutes=-5)
    [received] = await smtp.wait_for(1)
    link = site_path(unsubscribe_link(received))
    assert (await audience.client.get(link)).status == 200
    await audience.act("start")
    assert subjects(await smtp.wait_for(2))[1] == "Tuesday Night Live is live now"

    for broken in (link[:-20], "/unsubscribe", "/unsubscribe?token=forged"):
        for response in (await audience.client.get(broken), await audience.client.post(broken)):
            assert response.status == 400
            assert translate("en", "unsubscribe.invalid") in await response.text()


async def test_an_unsubscribe_is_the_brand_s_own(audience: Audience, smtp: SmtpServer) -> None:
    await audience.factory.brand("globex", "Globex")
    globex = await audience.factory.staff("globex", "manager")
    show = await audience.factory.show("globex", globex, title="Globex Live")
    theirs = (await audience.factory.episodes(show["id"], globex))[0]["id"]
    await audience.reminded()
    await audience.reminded(episode_id=theirs)
    audience.at(STARTS_AT, minutes=-5)
    received = await smtp.wait_for(2)
    from_acme = next(r for r in received if r.email["From"].startswith("Acme"))
    await audience.client.post(site_path(unsubscribe_link(from_acme)))

    await audience.act("start", theirs, by=globex)
    await audience.act("start")
    [live] = (await smtp.wait_for(3))[2:]
    assert live.email["Subject"] == "Globex Live is live now"
    await quiet(smtp, 3)


async def test_a_moved_episode_is_reminded_of_at_its_new_time_and_again_if_moved_after_its_reminder(
    audience: Audience, smtp: SmtpServer
) -> None:
    await audience.reminded()
    moved = await audience.move("2026-09-23T20:00")  # Wednesday 20:00 in Paris
    assert moved["id"] == audience.episode_id and moved["starts_at"] == "2026-09-23T18:00:00Z"
    audience.at(STARTS_AT, minutes=-5)
    await quiet(smtp, 0)

    wednesday = datetime.fromisoformat(moved["starts_at"])
    audience.at(wednesday, minutes=-15)
    [first] = await smtp.wait_for(1)
    assert first.email["Subject"] == "Starting soon: Tuesday Night Live at 8:00\N{NARROW NO-BREAK SPACE}PM"

    # Moved again after its reminder went: an hour later, reminded of anew for the new time.
    later = await audience.move("2026-09-23T21:00")
    await quiet(smtp, 1)
    audience.at(datetime.fromisoformat(later["starts_at"]), minutes=-15)
    [_, second] = await smtp.wait_for(2)
    assert second.email["Subject"] == "Starting soon: Tuesday Night Live at 9:00\N{NARROW NO-BREAK SPACE}PM"
    assert "Wednesday, September 23, 2026 at 9:00" in second.part("plain")
    await quiet(smtp, 2)


async def test_the_show_s_new_schedule_moves_the_reminder_and_an_episode_it_drops_is_cancelled_with_a_notice(
    audience: Audience, smtp: SmtpServer
) -> None:
    first, second = audience.episodes[0]["id"], audience.episodes[1]["id"]
    await audience.reminded(episode_id=first)
    await audience.reminded("tom@example.com", episode_id=second)
    # Every other Wednesday: the first episode keeps its id and takes Wednesday 23; the second has no slot left.
    response = await audience.client.patch(
        f"/api/v1/shows/{audience.show['id']}",
        json={"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "first_episode_at": "2026-09-23T19:00"},
        headers=audience.manager.headers,
    )
    assert response.status == 200, await response.text()
    listed = {e["id"]: e for e in await audience.factory.episodes(audience.show["id"], audience.manager)}
    assert listed[first]["starts_at"] == "2026-09-23T17:00:00Z"
    # Without its viewer it would have gone; someone waits for it, so it is cancelled and they are told.
    assert listed[second]["status"] == "cancelled"
    [notice] = await smtp.wait_for(1)
    assert notice.rcpt_tos == ["tom@example.com"]
    assert notice.email["Subject"] == "Cancelled: Tuesday Night Live"
    assert "planned for Tuesday, September 29, 2026 at 7:00" in notice.part("plain")

    audience.at(STARTS_AT, minutes=-5)  # the old Tuesday
    await quiet(smtp, 1)
    audience.at(datetime.fromisoformat("2026-09-23T16:45:00+00:00"))
    [_, reminder] = await smtp.wait_for(2)
    assert reminder.rcpt_tos == ["lea@example.com"] and "Wednesday, September 23" in reminder.part("plain")


async def test_a_cancelled_episode_sends_a_short_notice_instead_of_its_reminder(
    audience: Audience, smtp: SmtpServer
) -> None:
    await audience.reminded(headers=FRENCH_PAGE)
    await audience.reminded("tom@example.com")
    await audience.act("cancel")
    received = await smtp.wait_for(2)
    assert sorted(subjects(received)) == [
        "Annulé\N{NO-BREAK SPACE}: Tuesday Night Live",
        "Cancelled: Tuesday Night Live",
    ]
    french = next(r for r in received if r.rcpt_tos == ["lea@example.com"])
    assert "L\N{RIGHT SINGLE QUOTATION MARK}épisode Tuesday Night Live, prévu le mardi 22 septembre 2026 à 19:00" in (
        french.part("plain")
    )
    assert unsubscribe_link(french)
    audience.at(STARTS_AT, minutes=-10)
    await quiet(smtp, 2)


async def test_no_reminder_for_an_episode_that_already_started_nor_to_ask_for_one(
    audience: Audience, smtp: SmtpServer
) -> None:
    await audience.reminded()
    await audience.act("start")  # two days early
    [live] = await smtp.wait_for(1)
    assert live.email["Subject"] == "Tuesday Night Live is live now"
    audience.at(STARTS_AT, minutes=-10)
    await quiet(smtp, 1)

    started = await audience.remind("tom@example.com")
    assert started.status == 409 and "already started" in (await started.json())["detail"]
    await audience.act("cancel", audience.episodes[1]["id"])
    cancelled = await audience.remind("tom@example.com", episode_id=audience.episodes[1]["id"])
    assert cancelled.status == 409 and "cancelled" in (await cancelled.json())["detail"]
    late = await audience.remind("tom@example.com", episode_id=audience.episodes[2]["id"])
    assert late.status == 201  # the next one is still to come


async def test_the_brand_s_lead_time_decides_when_reminders_go(audience: Audience, smtp: SmtpServer) -> None:
    changed = await audience.brand(reminder_lead_minutes=60)
    assert changed.status == 200 and (await changed.json())["reminder_lead_minutes"] == 60
    reminder = await audience.reminded()
    assert reminder["remind_at"] == "2026-09-22T16:00:00Z"
    audience.at(STARTS_AT, minutes=-61)
    await quiet(smtp, 0)
    audience.at(STARTS_AT, minutes=-60)
    await smtp.wait_for(1)


async def test_workers_sweeping_together_send_each_reminder_once(
    audience: Audience, smtp: SmtpServer, settings: Settings
) -> None:
    for number in range(30):
        await audience.reminded(f"viewer{number}@example.com")
        if number % 10 == 9:
            audience.clock.advance(minutes=10)  # the next ten from the same address are allowed
    audience.at(STARTS_AT, minutes=-10)
    links = Links(settings.site_url, token_signer(settings, audience.clock))
    # Two more sweepers besides the app's own worker, each with its own connections, all at once.
    databases = [Database(create_engine(settings.effective_database_url)) for _ in range(2)]
    try:
        await asyncio.gather(*(sweep(db, now=audience.clock.now(), links=links) for db in databases))
    finally:
        for db in databases:
            await db.close()
    received = await smtp.wait_for(30)
    await quiet(smtp, 30)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(f"viewer{n}@example.com" for n in range(30))
