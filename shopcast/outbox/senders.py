"""Which sender delivers each kind of message, and how often it is tried, from the settings: the one
place a new kind plugs in (the app process and `shopcast worker` both take their senders from here)."""

from __future__ import annotations

from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.core.settings import Settings
from shopcast.emails.folder import FolderSender, mailbox
from shopcast.emails.smtp import SmtpSender
from shopcast.outbox.worker import OutboxWorker, Retries, RetryPolicy, Sender


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


def retry_policies(settings: Settings) -> dict[str, RetryPolicy]:
    """How each kind is retried: emails on the outbox's back-off."""
    return {
        "email": Retries(
            max_attempts=settings.outbox_max_attempts,
            first_seconds=settings.outbox_retry_seconds,
            max_seconds=settings.outbox_retry_max_seconds,
        ),
    }


def outbox_worker(settings: Settings, database: Database, clock: Clock) -> OutboxWorker:
    """The worker for these settings, not yet started."""
    return OutboxWorker(
        database,
        senders(settings),
        clock=clock,
        retries=retry_policies(settings),
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        claim_seconds=settings.outbox_claim_seconds,
    )
