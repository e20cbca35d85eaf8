"""Webhooks' use cases: the brand's endpoints (managers), an event queued for each endpoint that
listens to it in the transaction of its cause, and the deliveries with their attempts, replayed on request.

A delivery is an outbox message of kind "webhook" to the endpoint's id, whose payload is the body sent
(`{type, timestamp, data}`); its id is the `webhook-id`, the same on every attempt and replay. The
sender (`shopcast.webhooks.delivery`) reads the endpoint's address and secrets when it sends, so a
changed address or a rotated secret applies to deliveries still waiting.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts import service as accounts
from shopcast.core.errors import Conflict, InvalidInput, NotFound
from shopcast.core.ids import new_id
from shopcast.core.security import Principal, Role, authorize, signed_in
from shopcast.outbox import service as outbox
from shopcast.outbox.schemas import AttemptOut, MessageOut
from shopcast.webhooks.addresses import EndpointRules, UnsafeUrl
from shopcast.webhooks.events import CART_ABANDONED, WEBHOOK_TEST, CartAbandoned, WebhookTestData
from shopcast.webhooks.models import WebhookEndpoint
from shopcast.webhooks.schemas import (
    DeliveriesQuery,
    DeliveryOut,
    DeliveryView,
    EndpointIn,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
)

KIND = "webhook"
MAX_ENDPOINTS = 20  # per brand: each event is one delivery per endpoint
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes, base64, prefixed whsec_
TEST_MESSAGE = "A test event from Shopcast: nothing happened in the shop."


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_out(row: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=row.id,
        brand_id=row.brand_id,
        url=row.url,
        description=row.description,
        events=row.events,  # type: ignore[arg-type]
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        previous_secret_until=row.previous_until if row.previous_secret is not None else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _with_secret(row: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret(**endpoint_out(row).model_dump(), secret=row.secret)


async def _checked_url(rules: EndpointRules, url: str) -> str:
    try:
        await rules.check_all(url)
    except UnsafeUrl as exc:
        reason = exc.reason
        raise InvalidInput(
            "errors.field.reason", field="url", reason=reason, extra={"errors": [{"field": "url", "reason": reason}]}
        ) from None
    return url.strip()


async def _endpoint(
    session: AsyncSession, actor: Principal | None, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    """The endpoint, for a manager of its brand; another brand's is not even said to exist."""
    actor = signed_in(actor)
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None or actor.is_guest or actor.roles.get(row.brand_id) is None:
        raise NotFound("errors.webhook.none", endpoint_id=endpoint_id)
    authorize(actor, row.brand_id, Role.MANAGER)
    return row


# --- endpoints -------------------------------------------------------------------------------


async def list_endpoints(session: AsyncSession, *, actor: Principal | None, brand_slug: str) -> list[EndpointOut]:
    """The brand's endpoints, oldest first (managers)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    found = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.brand_id == brand.id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return [endpoint_out(row) for row in found]


async def create_endpoint(
    session: AsyncSession,
    *,
    actor: Principal | None,
    brand_slug: str,
    data: EndpointIn,
    rules: EndpointRules,
    now: datetime,
) -> EndpointWithSecret:
    """Add an endpoint with a new secret, shown this once (managers)."""
    brand = await accounts.get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    count = await session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.brand_id == brand.id)
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise Conflict("errors.webhook.too_many", most=MAX_ENDPOINTS)
    row = WebhookEndpoint(
        id=new_id(),
        brand_id=brand.id,
        url=await _checked_url(rules, data.url),
        description=data.description.strip(),
        events=list(data.events),
        enabled=data.enabled,
        disabled_reason=None,
        secret=new_secret(),
        previous_secret=None,
        previous_until=None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _with_secret(row)


async def get_endpoint(session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID) -> EndpointOut:
    """One endpoint, without its secret (managers of its brand)."""
    return endpoint_out(await _endpoint(session, actor, endpoint_id))


async def update_endpoint(
    session: AsyncSession,
    *,
    actor: Principal | None,
    endpoint_id: uuid.UUID,
    data: EndpointUpdate,
    rules: EndpointRules,
    now: datetime,
) -> EndpointOut:
    """Change an endpoint's address, description, events or whether it is on (managers)."""
    row = await _endpoint(session, actor, endpoint_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    for name in ("url", "events", "enabled", "description"):
        if name in changes and changes[name] is None:
            raise InvalidInput("errors.webhook.empty", name=name)
    if "url" in changes:
        row.url = await _checked_url(rules, changes["url"])
    if "description" in changes:
        row.description = changes["description"].strip()
    if "events" in changes:
        row.events = list(changes["events"])
    if "enabled" in changes:
        row.enabled = changes["enabled"]
        if row.enabled:
            row.disabled_reason = None
    row.updated_at = now
    await session.flush()
    return endpoint_out(row)


async def delete_endpoint(session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID) -> None:
    """Remove an endpoint and its deliveries (managers)."""
    row = await _endpoint(session, actor, endpoint_id, for_update=True)
    await outbox.forget(session, kind=KIND, recipient=str(row.id))
    await session.delete(row)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID, now: datetime, grace: timedelta
) -> EndpointWithSecret:
    """A new secret, shown this once; the one it replaces still signs beside it for `grace` (managers)."""
    row = await _endpoint(session, actor, endpoint_id, for_update=True)
    row.previous_secret, row.previous_until = row.secret, now + grace
    row.secret = new_secret()
    row.updated_at = now
    await session.flush()
    return _with_secret(row)


# --- events ----------------------------------------------------------------------------------


def _body(event: str, data: BaseModel, now: datetime) -> dict[str, Any]:
    """The delivery's body, as Standard Webhooks shapes it."""
    stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"type": event, "timestamp": stamp, "data": data.model_dump(mode="json")}


async def emit(
    session: AsyncSession, *, brand_id: uuid.UUID, event: str, data: BaseModel, now: datetime, about: str | None = None
) -> list[uuid.UUID]:
    """Queue `event` for each of the brand's enabled endpoints that listen to it, in the caller's
    transaction: sent once it commits, never if it rolls back."""
    found = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.brand_id == brand_id, WebhookEndpoint.enabled.is_(True))
    )
    listening = [row for row in found if event in row.events]
    if not listening:
        return []
    body = _body(event, data, now)
    return [
        await outbox.add(
            session,
            kind=KIND,
            brand_id=brand_id,
            topic=event,
            recipient=str(row.id),
            payload=body,
            now=now,
            about=about,
        )
        for row in listening
    ]


async def cart_abandoned(
    session: AsyncSession, *, brand_id: uuid.UUID, cart: CartAbandoned, now: datetime
) -> list[uuid.UUID]:
    """Tell the brand's shop a cart was left without checking out (the abandoned-cart follow-up calls
    this in the transaction that records its email)."""
    return await emit(
        session, brand_id=brand_id, event=CART_ABANDONED, data=cart, now=now, about=f"cart:{cart.cart_id}"
    )


async def send_test(
    session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID, now: datetime
) -> DeliveryOut:
    """Queue a `webhook.test` delivery to this endpoint (managers)."""
    row = await _endpoint(session, actor, endpoint_id)
    if not row.enabled:
        raise Conflict("errors.webhook.off_for_test")
    brand = await accounts.get_brand_by_id(session, brand_id=row.brand_id)
    data = WebhookTestData(endpoint_id=row.id, brand=brand.slug, message=TEST_MESSAGE)
    message_id = await outbox.add(
        session,
        kind=KIND,
        brand_id=row.brand_id,
        topic=WEBHOOK_TEST,
        recipient=str(row.id),
        payload=_body(WEBHOOK_TEST, data, now),
        now=now,
    )
    return (await _deliveries(session, [await _message(session, row, message_id)]))[0]


# --- deliveries ------------------------------------------------------------------------------


def _delivery(message: MessageOut, tries: list[AttemptOut]) -> DeliveryOut:
    return DeliveryOut(
        **message.progress(),
        id=message.id,
        endpoint_id=uuid.UUID(message.recipient),
        event=message.topic,
        about=message.about,
        tries=tries,
    )


async def _deliveries(session: AsyncSession, messages: list[MessageOut]) -> list[DeliveryOut]:
    tries = await outbox.attempts_of(session, message_ids=[m.id for m in messages])
    return [_delivery(message, tries[message.id]) for message in messages]


async def _message(session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: uuid.UUID) -> MessageOut:
    message = await outbox.get_message(session, message_id=delivery_id)
    if message is None or message.kind != KIND or message.recipient != str(endpoint.id):
        raise NotFound("errors.webhook.delivery_none", delivery_id=delivery_id)
    return message


async def list_deliveries(
    session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID, query: DeliveriesQuery
) -> list[DeliveryOut]:
    """The endpoint's deliveries, newest first, each with every attempt (managers)."""
    row = await _endpoint(session, actor, endpoint_id)
    found = await outbox.list_messages(
        session, brand_id=row.brand_id, kind=KIND, state=query.state, recipient=str(row.id), limit=query.limit
    )
    return await _deliveries(session, found)


async def get_delivery(
    session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryView:
    """One delivery with its body and every attempt (managers)."""
    row = await _endpoint(session, actor, endpoint_id)
    message = await _message(session, row, delivery_id)
    [delivery] = await _deliveries(session, [message])
    return DeliveryView(**delivery.model_dump(), payload=message.payload)


async def replay_delivery(
    session: AsyncSession, *, actor: Principal | None, endpoint_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> DeliveryOut:
    """Send a delivery again, with the same webhook-id so the shop can tell it already has it (managers)."""
    row = await _endpoint(session, actor, endpoint_id)
    if not row.enabled:
        raise Conflict("errors.webhook.off_for_replay")
    await _message(session, row, delivery_id)
    if not await outbox.replay(session, message_id=delivery_id, now=now):
        raise Conflict("errors.webhook.being_sent")
    return (await _deliveries(session, [await _message(session, row, delivery_id)]))[0]


# --- what the sender needs -------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """Where a delivery goes and the secrets that sign it (the newest first)."""

    url: str
    secrets: list[str]
    enabled: bool


async def destination(session: AsyncSession, *, endpoint_id: uuid.UUID, now: datetime) -> Destination | None:
    """The endpoint as a delivery to it needs it now; None once it is deleted."""
    row = await session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        return None
    signing = [row.secret]
    if row.previous_secret is not None and row.previous_until is not None and now < row.previous_until:
        signing.append(row.previous_secret)
    return Destination(url=row.url, secrets=signing, enabled=row.enabled)


async def turn_off(session: AsyncSession, *, endpoint_id: uuid.UUID, reason: str, now: datetime) -> None:
    """Shopcast stops sending to the endpoint (it answered 410 Gone); a manager can turn it on again."""
    row = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if row is not None and row.enabled:
        row.enabled, row.disabled_reason, row.updated_at = False, reason[:300], now
