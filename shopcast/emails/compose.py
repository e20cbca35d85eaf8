"""An email from its template: the text and HTML parts in the recipient's language, then the RFC 5322
message a sender delivers, the same bytes on every attempt.

Templates live in shopcast/emails/templates/ (`<name>.txt` and `<name>.html`); their words come from
the catalogues (`email.*` keys), money and country names from Babel. The HTML part is autoescaped:
whatever users wrote (names, product titles, addresses) is shown as text, never as markup.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_currency, get_currency_precision

from shopcast.core.catalogues import translate

TEMPLATES = Path(__file__).resolve().parent / "templates"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def money(amount: int, currency: str, *, language: str) -> str:
    """Minor units as the reader writes money: 4990 EUR is "€49.90" in English, "49,90 €" in French."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(amount).scaleb(-digits), currency, locale=language)


def country(code: str, *, language: str) -> str:
    """A country's name in the reader's language ("FR" is "France", "DE" is "Allemagne" in French)."""
    return Locale.parse(language).territories.get(code.upper(), code)


def moment(at: datetime, zone: str, *, language: str) -> str:
    """An instant as the reader says it in a show's time zone: "Tuesday, October 6, 2026 at 7:00 PM (Central
    European Summer Time)", "mardi 6 octobre 2026 à 19:00 (heure d’été d’Europe centrale)"."""  # noqa: RUF002
    local = at.astimezone(ZoneInfo(zone))
    return translate(
        language,
        "email.moment",
        date=format_date(local, "full", locale=language),
        time=format_time(local, "short", locale=language),
        zone=get_timezone_name(local, width="long", locale=language),
    )


def time_of_day(at: datetime, zone: str, *, language: str) -> str:
    """The clock time alone, in the show's time zone: "7:00 PM", "19:00"."""
    return format_time(at.astimezone(ZoneInfo(zone)), "short", locale=language)


# Any run of white space but the no-break spaces a language writes ("Commande SC-1 : payée" in French).
_BREAKS = re.compile(r"[^\S\u00a0\u202f]+")


def one_line(text: str) -> str:
    """What users wrote, fit for a header: no line breaks, no runs of spaces; no-break spaces stay."""
    return _BREAKS.sub(" ", text).strip()


def render(template: str, *, language: str, context: dict[str, Any]) -> Rendered:
    """The email `template` in `language`; its subject is the catalogue's `email.<template>.subject`."""
    helpers = {
        "t": functools.partial(translate, language),
        "money": functools.partial(money, language=language),
        "country": functools.partial(country, language=language),
        "language": language,
    }
    values = {**context, **helpers}
    subject = translate(language, f"email.{template}.subject", **context)
    text = _TEMPLATES.get_template(f"{template}.txt").render(values, subject=subject)
    html = _TEMPLATES.get_template(f"{template}.html").render(values, subject=subject)
    return Rendered(subject=one_line(subject), text=text, html=html)


def message_id(message_uuid: uuid.UUID, mail_from: str) -> str:
    """The Message-ID of an outbox message: its id at the sending domain, the same on every attempt."""
    return f"<{message_uuid}@{mail_from.rpartition('@')[2]}>"


class Queued(Protocol):
    """An email in the outbox, as the worker claims it or the brand's staff read it."""

    id: uuid.UUID
    payload: dict[str, Any]
    created_at: datetime


def mime(queued: Queued, *, mail_from: str) -> EmailMessage:
    """The email a queued payload (`emails.service.queue`) stands for, ready to send or keep."""
    payload, message_uuid, created_at = queued.payload, queued.id, queued.created_at
    message = EmailMessage()
    message["From"] = Address(display_name=one_line(payload["from_name"]), addr_spec=mail_from)
    message["To"] = Address(display_name=one_line(payload["to_name"]), addr_spec=payload["to"])
    message["Subject"] = payload["subject"]
    # The time it was written (the cause's commit), not of this attempt: a retry is the same email.
    message["Date"] = format_datetime(created_at)
    message["Message-ID"] = message_id(message_uuid, mail_from)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a receipt
    for name, value in payload.get("headers", {}).items():
        message[name] = value  # List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), for instance
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    # After the parts: making them moves the Content-* headers there is into the first one.
    message["Content-Language"] = payload["language"]
    return message
