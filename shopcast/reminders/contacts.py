"""A brand's contacts: the one way an email beyond orders is written (reminders, cart follow-ups), each
with its unsubscribe link and the one-click headers mail providers expect (RFC 8058), and the
unsubscribe itself, after which nothing of the kind is written to the address by that brand again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.core.db import insert_ignoring_duplicates
from shopcast.core.errors import NotFound
from shopcast.core.ids import new_id
from shopcast.core.security import TokenSigner
from shopcast.emails import service as emails
from shopcast.outbox import service as outbox
from shopcast.reminders.models import Contact

UNSUBSCRIBE_LINK = "unsubscribe"  # the audience of unsubscribe tokens
# An unsubscribe link keeps working as long as someone may keep the email.
UNSUBSCRIBE_LINK_TTL = timedelta(days=5 * 365)
# The emails an unsubscribe stops (orders' and prizes' are answers to what the person did, and still go).
UNSUBSCRIBABLE = ("episode_reminder", "episode_live", "episode_cancelled", "cart_follow_up")


@dataclass(frozen=True)
class Links:
    """What links in emails are made with: the address people open Shopcast at, and the signer."""

    site_url: str
    signer: TokenSigner

    def page(self, path: str, **query: str | int) -> str:
        """An absolute link to one of Shopcast's pages."""
        return f"{self.site_url.rstrip('/')}{path}{'?' + urlencode(query) if query else ''}"

    def unsubscribe(self, contact_id: uuid.UUID, language: str) -> str:
        """The contact's unsubscribe page (in the email's language), which one-click POSTs go to as well."""
        token = self.signer.sign_link(UNSUBSCRIBE_LINK, contact_id, UNSUBSCRIBE_LINK_TTL)
        return self.page("/unsubscribe", token=token, lang=language)


def normal(email: str) -> str:
    """One way to write an address, so that one person is one contact however they typed it."""
    return email.strip().lower()


async def contact_for(
    session: AsyncSession, *, brand_id: uuid.UUID, email: str, language: str, now: datetime
) -> Contact:
    """The brand's contact for this address, made on first use."""
    email = normal(email)
    values = {"id": new_id(), "brand_id": brand_id, "email": email, "language": language, "created_at": now}
    await session.execute(insert_ignoring_duplicates(session, Contact.__table__).values(values))
    found = await session.scalar(select(Contact).where(Contact.brand_id == brand_id, Contact.email == email))
    assert found is not None
    return found


async def write(
    session: AsyncSession,
    *,
    contact: Contact,
    brand_name: str,
    language: str,
    template: str,
    context: dict[str, Any],
    links: Links,
    now: datetime,
    about: str,
) -> uuid.UUID | None:
    """Queue an email to a contact with its unsubscribe link (the template's `unsubscribe_url`, and the
    List-Unsubscribe headers); nothing for a contact that unsubscribed."""
    if contact.unsubscribed_at is not None:
        return None
    unsubscribe_url = links.unsubscribe(contact.id, language)
    return await emails.queue(
        session,
        brand_id=contact.brand_id,
        brand_name=brand_name,
        to=contact.email,
        to_name="",
        language=language,
        template=template,
        context={**context, "unsubscribe_url": unsubscribe_url},
        now=now,
        about=about,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@dataclass(frozen=True)
class Unsubscribing:
    """Whose link it is, as the unsubscribe page tells them."""

    brand_name: str
    email: str
    language: str
    unsubscribed: bool


async def _holder(session: AsyncSession, token: str, signer: TokenSigner) -> Contact:
    contact = await session.get(Contact, signer.read_link(token, UNSUBSCRIBE_LINK))
    if contact is None:
        raise NotFound("errors.reminders.no_contact")
    return contact


async def _told(session: AsyncSession, contact: Contact) -> Unsubscribing:
    brand = await accounts.get_brand_by_id(session, brand_id=contact.brand_id)
    return Unsubscribing(brand.name, contact.email, contact.language, contact.unsubscribed_at is not None)


async def look_up(session: AsyncSession, *, token: str, signer: TokenSigner) -> Unsubscribing:
    """Whose unsubscribe link this is, and whether they already used it."""
    return await _told(session, await _holder(session, token, signer))


async def unsubscribe(session: AsyncSession, *, token: str, signer: TokenSigner, now: datetime) -> Unsubscribing:
    """No more reminders or follow-ups from the brand to the link's address (again: nothing changes);
    those already queued and not yet sent are withdrawn."""
    contact = await _holder(session, token, signer)
    await session.execute(
        update(Contact)
        .where(Contact.id == contact.id, Contact.unsubscribed_at.is_(None))
        .values(unsubscribed_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(contact)
    await outbox.withdraw(session, brand_id=contact.brand_id, recipient=contact.email, topics=UNSUBSCRIBABLE)
    return await _told(session, contact)
