"""Which sender delivers each kind of message, how often it is tried, and which sweeps queue what comes
due, from the settings: the one place a new kind or sweep plugs in (the app process and `shopcast worker`
both take theirs from here)."""

from __future__ import annotations

import functools

from aiohttp.abc import AbstractResolver

from shopcast.catalog import abandoned
from shopcast.contests import winner_emails
from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.core.security import token_signer
from shopcast.core.settings import Settings
from shopcast.emails.folder import FolderSender, mailbox
from shopcast.emails.smtp import SmtpSender
from shopcast.outbox.worker import OutboxWorker, Retries, RetryPolicy, RetrySchedule, Sender, Sweep
from shopcast.reminders import sweep as reminders
from shopcast.reminders.contacts import Links
from shopcast.webhooks.addresses import EndpointRules
from shopcast.webhooks.delivery import WebhookSender


def endpoint_rules(settings: Settings, resolver: AbstractResolver | None = None) -> EndpointRules:
    """Where webhooks may go under these settings (`resolver`: the system's unless given)."""
    return EndpointRules(
        allow_http=settings.webhooks_allow_http, allow_private=settings.webhooks_allow_private, resolver=resolver
    )


def senders(
    settings: Settings, database: Database, clock: Clock, resolver: AbstractResolver | None = None
) -> dict[str, Sender]:
    """A sender per message kind."""
    email: Sender
    if settings.smtp_url is not None:
        email = SmtpSender(
            settings.smtp_url.get_secret_value(), mail_from=settings.mail_from, timeout=settings.smtp_timeout_seconds
        )
    else:
        email = FolderSender(mailbox(settings.data_dir), mail_from=settings.mail_from)
    webhook = WebhookSender(
        database, rules=endpoint_rules(settings, resolver), timeout=settings.webhooks_timeout_seconds, clock=clock
    )
    return {"email": email, "webhook": webhook}


def retry_policies(settings: Settings) -> dict[str, RetryPolicy]:
    """How each kind is retried: emails on the outbox's back-off, webhooks on the Standard Webhooks schedule."""
    return {
        "email": Retries(
            max_attempts=settings.outbox_max_attempts,
            first_seconds=settings.outbox_retry_seconds,
            max_seconds=settings.outbox_retry_max_seconds,
        ),
        "webhook": RetrySchedule(tuple(settings.webhooks_retry_seconds)),
    }


def sweeps(settings: Settings, database: Database, clock: Clock) -> list[Sweep]:
    """The periodic jobs that queue messages as they come due: reminders and episode notices, abandoned
    carts' follow-ups (with their `cart.abandoned` webhooks), giveaway winners' claim links."""
    links = Links(settings.site_url, token_signer(settings, clock))
    jobs = (reminders.sweep, abandoned.sweep, winner_emails.sweep)
    return [functools.partial(job, database, links=links) for job in jobs]


def outbox_worker(
    settings: Settings, database: Database, clock: Clock, resolver: AbstractResolver | None = None
) -> OutboxWorker:
    """The worker for these settings, not yet started."""
    return OutboxWorker(
        database,
        senders(settings, database, clock, resolver),
        clock=clock,
        retries=retry_policies(settings),
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        claim_seconds=settings.outbox_claim_seconds,
        sweeps=sweeps(settings, database, clock),
        sweep_seconds=settings.outbox_sweep_seconds,
    )
