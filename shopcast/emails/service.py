"""Emails' use cases: queue one in the caller's transaction; the brand's managers list and read them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.core.errors import NotFound, Unauthorized
from shopcast.core.security import Principal, Role, TokenSigner, authorize, signed_in
from shopcast.emails import compose
from shopcast.emails.folder import Mailbox
from shopcast.emails.schemas import EmailHeader, EmailOut, EmailsQuery, EmailView
from shopcast.outbox import service as outbox
from shopcast.outbox.schemas import MessageOut

KIND = "email"
HTML_LINK = "email-html"  # the audience of the links to an email's HTML part
HTML_LINK_TTL = timedelta(minutes=10)


async def queue(
    session: AsyncSession,
    *,
    brand_id: uuid.UUID,
    brand_name: str,
    to: str,
    to_name: str,
    language: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    about: str | None = None,
    headers: dict[str, str] | None = None,
) -> uuid.UUID:
    """Write the email `template` in `language` and queue it in the caller's transaction; `headers`: more
    headers of its own (its unsubscribe link)."""
    rendered = compose.render(template, language=language, context={"brand": brand_name, **context})
    payload: dict[str, Any] = {
        "to": to,
        "to_name": to_name,
        "from_name": brand_name,
        "language": language,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
    }
    if headers:
        payload["headers"] = headers
    return await outbox.add(
        session, kind=KIND, brand_id=brand_id, topic=template, recipient=to, payload=payload, now=now, about=about
    )


def _email_out(message: MessageOut) -> EmailOut:
    payload = message.payload
    return EmailOut(
        id=message.id,
        to=message.recipient,
        to_name=payload["to_name"],
        subject=payload["subject"],
        template=message.topic,
        language=payload["language"],
        about=message.about,
        **message.progress(),
    )


async def list_emails(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, query: EmailsQuery
) -> list[EmailOut]:
    """The brand's emails, newest first (managers)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    about = f"order:{query.order_id}" if query.order_id is not None else None
    found = await outbox.list_messages(
        session, brand_id=brand.id, kind=KIND, state=query.state, about=about, limit=query.limit
    )
    return [_email_out(message) for message in found]


async def emails_about(session: AsyncSession, *, brand_id: uuid.UUID, about: str) -> list[EmailOut]:
    """The brand's emails caused by one thing (`order:<id>`), oldest first (the caller checks who asks)."""
    found = await outbox.list_messages(session, brand_id=brand_id, kind=KIND, about=about, limit=500)
    return [_email_out(message) for message in reversed(found)]


async def _email(session: AsyncSession, email_id: uuid.UUID) -> MessageOut:
    message = await outbox.get_message(session, message_id=email_id)
    if message is None or message.kind != KIND:
        raise NotFound("errors.email.none", email_id=email_id)
    return message


async def _as_sent(message: MessageOut, *, mailbox: Mailbox, mail_from: str) -> tuple[EmailMessage, bool]:
    """The email as kept in the data folder, else as the outbox composes it for sending."""
    kept = await asyncio.to_thread(mailbox.read, message.brand_id, message.id)
    if kept is not None:
        return kept, True
    return compose.mime(message, mail_from=mail_from), False


def _part(email: EmailMessage, subtype: str) -> str:
    part = email.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""  # type: ignore[attr-defined]


async def read_email(
    session: AsyncSession, *, actor: Principal | None, email_id: uuid.UUID, mailbox: Mailbox, mail_from: str
) -> EmailView:
    """One email with its headers and both parts, as sent (managers of its brand)."""
    actor = signed_in(actor)
    message = await _email(session, email_id)
    if actor.is_guest or actor.roles.get(message.brand_id) is None:
        raise NotFound("errors.email.none", email_id=email_id)  # another brand's: not even its existence
    authorize(actor, message.brand_id, Role.MANAGER)
    email, kept = await _as_sent(message, mailbox=mailbox, mail_from=mail_from)
    return EmailView(
        **_email_out(message).model_dump(),
        headers=[EmailHeader(name=name, value=str(value)) for name, value in email.items()],
        text=_part(email, "plain"),
        html=_part(email, "html"),
        tries=await outbox.list_attempts(session, message_id=message.id),
        kept=kept,
    )


def html_link(signer: TokenSigner, email_id: uuid.UUID) -> str:
    """A signed token that shows this email's HTML part for a few minutes (frames send no bearer token)."""
    return signer.sign_link(HTML_LINK, email_id, HTML_LINK_TTL)


async def email_html(
    session: AsyncSession, *, email_id: uuid.UUID, token: str, signer: TokenSigner, mailbox: Mailbox, mail_from: str
) -> str:
    """The HTML part of an email, for the holder of a link from `html_link` to it."""
    if signer.read_link(token, HTML_LINK) != email_id:
        raise Unauthorized("errors.email.other_link")
    message = await _email(session, email_id)
    email, _ = await _as_sent(message, mailbox=mailbox, mail_from=mail_from)
    return _part(email, "html")
