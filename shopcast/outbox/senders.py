"""Which sender delivers each kind of message, and which sweeps queue what comes due, from the settings:
the one place a new kind or sweep plugs in (the app process and `shopcast worker` both take theirs
from here)."""

from __future__ import annotations

import functools

from shopcast.catalog import abandoned
from shopcast.contests import winner_emails
from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.core.security import token_signer
from shopcast.core.settings import Settings
from shopcast.emails.folder import FolderSender, mailbox
from shopcast.emails.smtp import SmtpSender
from shopcast.outbox.worker import OutboxWorker, Retries, Sender, Sweep
from shopcast.reminders import sweep as reminders
from shopcast.reminders.contacts import Links


def senders(settings: Settings) -> dict[str, Sender]:
    """A sender per message kind."""
    email: Sender
    if settings.smtp_url is not None:
        email = SmtpSender(
            settings.smtp_url.get_secret_value(), mail_from=settings.mail_from, timeout=settings.smtp_timeout_seconds
        )
    else:
        email = FolderSender(mailbox(settings.data_dir), mail_from=settings.mail_from)
    return {"email": email}


def sweeps(settings: Settings, database: Database, clock: Clock) -> list[Sweep]:
    """The periodic jobs that queue emails as they come due: reminders and episode notices, abandoned
    carts' follow-ups, giveaway winners' claim links."""
    links = Links(settings.site_url, token_signer(settings, clock))
    jobs = (reminders.sweep, abandoned.sweep, winner_emails.sweep)
    return [functools.partial(job, database, links=links) for job in jobs]


def outbox_worker(settings: Settings, database: Database, clock: Clock) -> OutboxWorker:
    """The worker for these settings, not yet started."""
    return OutboxWorker(
        database,
        senders(settings),
        clock=clock,
        retries=Retries(
            max_attempts=settings.outbox_max_attempts,
            first_seconds=settings.outbox_retry_seconds,
            max_seconds=settings.outbox_retry_max_seconds,
        ),
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        claim_seconds=settings.outbox_claim_seconds,
        sweeps=sweeps(settings, database, clock),
        sweep_seconds=settings.outbox_sweep_seconds,
    )
