"""The outbox's promises, through the real app and a real SMTP server: an email exists only if its
cause was committed; a failing server gets it later, once, with the same Message-ID; and after the
last attempt the email is given up where the brand's staff see it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.catalog.conftest import Shop
from tests.conftest import SettableClock
from tests.emails.conftest import OUTBOX, emails, eventually, settled
from tests.emails.smtp_server import SmtpServer
from tests.problems import refused

FIRST_WAIT = OUTBOX["outbox_retry_seconds"]


def waited(email: dict[str, Any], clock: SettableClock) -> float:
    """Seconds from now to the email's next attempt."""
    return (datetime.fromisoformat(email["next_try_at"]) - clock.now()).total_seconds()


async def only_email(shop: Shop, **expected: Any) -> dict[str, Any]:
    """The brand's one email, once it is as expected."""

    async def check() -> dict[str, Any] | None:
        found = await emails(shop.client, shop.room.manager)
        return found[0] if len(found) == 1 and expected.items() <= found[0].items() else None

    return await eventually(check)


async def test_an_order_that_is_refused_sends_nothing(shop: Shop, smtp: SmtpServer) -> None:
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    # Lea's three M are checked when added but taken only at checkout; Tom holds one meanwhile.
    assert (await shop.add(lea, "M", 3, live=False)).status == 201
    tom_order = await shop.buy(tom, "tom-1", "M")
    # Lea's confirmation is written before her stock is taken: the whole transaction rolls back.
    await refused(await shop.order(lea, "lea-1"), 409, "only 2 left")

    [sent] = await settled(shop, 1)
    assert sent["about"] == f"order:{tom_order['id']}"
    await smtp.wait_for(1)
    assert [r.rcpt_tos for r in smtp.received] == [["lea@example.com"]]  # Tom ordered with the same email
    assert tom_order["number"] in smtp.received[0].email["Subject"]


async def test_a_server_that_refuses_gets_the_email_later_once_with_the_same_message_id(
    shop: Shop, smtp: SmtpServer, clock: SettableClock
) -> None:
    smtp.refuse_next = 2
    await shop.buy(await shop.guest(), "lea-1")

    first = await only_email(shop, state="failed", attempts=1)
    assert first["last_error"] == "451 4.3.0 not now, try again later"
    assert FIRST_WAIT / 2 <= waited(first, clock) <= FIRST_WAIT  # back-off with jitter
    clock.advance(seconds=FIRST_WAIT / 2 - 1)  # not due yet: nothing happens
    second_look = await only_email(shop, state="failed", attempts=1)
    assert second_look["next_try_at"] == first["next_try_at"]

    clock.advance(seconds=FIRST_WAIT / 2 + 1)
    second = await only_email(shop, state="failed", attempts=2)
    assert FIRST_WAIT <= waited(second, clock) <= 2 * FIRST_WAIT  # twice as long, at most
    clock.advance(seconds=2 * FIRST_WAIT)
    sent = await only_email(shop, state="sent", attempts=3)
    assert sent["last_error"] is None and sent["next_try_at"] is None

    [received] = await smtp.wait_for(1)
    assert smtp.refused == 2 and len(smtp.received) == 1
    assert received.message_id == f"<{sent['id']}@localhost>"
    # The refused attempts carried the very same message: a server (or a person) sees one email.
    assert smtp.refused_ids == [received.message_id] * 2

    view = await shop.client.get(f"/api/v1/emails/{sent['id']}", headers=shop.room.manager.headers)
    tries = (await view.json())["tries"]
    assert [(t["number"], t["ok"]) for t in tries] == [(1, False), (2, False), (3, True)]
    assert tries[0]["detail"] == "451 4.3.0 not now, try again later"
    assert tries[2]["detail"].startswith("2.0.0 Ok: queued")


async def test_after_the_last_attempt_the_email_is_given_up_and_shown_so(
    shop: Shop, smtp: SmtpServer, clock: SettableClock
) -> None:
    smtp.refuse_next = 100
    await shop.buy(await shop.guest(), "lea-1")
    for attempt in range(1, OUTBOX["outbox_max_attempts"]):
        await only_email(shop, state="failed", attempts=attempt)
        clock.advance(hours=1)
    dead = await only_email(shop, state="dead", attempts=OUTBOX["outbox_max_attempts"])
    assert dead["last_error"] == "451 4.3.0 not now, try again later" and dead["next_try_at"] is None

    # The server takes emails again: the worker goes on with Tom's, never again Lea's.
    smtp.refuse_next = 0
    clock.advance(hours=6)  # far past any retry (the sign-ins still hold)
    await shop.buy(await shop.guest("Tom"), "tom-1", email="tom@example.com")
    await settled(shop, 2)
    assert [r.rcpt_tos for r in await smtp.wait_for(1)] == [["tom@example.com"]]
    assert smtp.refused == OUTBOX["outbox_max_attempts"]


async def test_an_address_the_server_refuses_for_good_is_given_up_at_once(shop: Shop, smtp: SmtpServer) -> None:
    smtp.unknown = {"nobody@example.com"}
    await shop.buy(await shop.guest(), "lea-1", email="nobody@example.com")
    dead = await only_email(shop, state="dead", attempts=1)
    assert dead["last_error"] == "recipient refused: 550 5.1.1 no such mailbox here"


async def test_a_server_that_is_down_is_tried_again(shop: Shop, smtp: SmtpServer, clock: SettableClock) -> None:
    await smtp.stop()
    await shop.buy(await shop.guest(), "lea-1")
    failed = await only_email(shop, state="failed", attempts=1)
    assert failed["last_error"].startswith("SMTPConnect")
    await smtp.start(port=smtp.port)
    clock.advance(seconds=FIRST_WAIT)
    await only_email(shop, state="sent", attempts=2)
    assert len(await smtp.wait_for(1)) == 1


def test_waits_double_from_the_first_up_to_the_longest_with_jitter() -> None:
    from shopcast.outbox.worker import Retries

    retries = Retries(max_attempts=12, first_seconds=30, max_seconds=3600)
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (11, 3600)]:
        waits = [retries.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (attempt, min(waits), max(waits))
        assert max(waits) - min(waits) > ceiling / 4  # spread out, not all at once
    assert timedelta(seconds=retries.delay(60)) <= timedelta(hours=1)
