"""Delivering webhooks: the outbox's sender of kind "webhook" (Standard Webhooks).

Each attempt POSTs the delivery's body (`{type, timestamp, data}`, compact JSON) with `webhook-id` (the
outbox message's id, the same on every attempt and replay), `webhook-timestamp` (this attempt's time,
in Unix seconds) and `webhook-signature`: a `v1,…` signature by each of the endpoint's secrets now
valid, space-separated (the new and, during the grace after a rotation, the previous one), made with
the `standardwebhooks` library.

The answer decides: 2xx delivered; 410 Gone turns the endpoint off (Shopcast stops sending to it);
a redirect is not followed (the endpoint's address should change instead); anything else, a timeout
(SHOPCAST_WEBHOOKS_TIMEOUT_SECONDS for the whole exchange) or a connection that cannot be made is
tried again on the webhooks' schedule, later if the endpoint said so (Retry-After). The beginning of
the answer's body is kept with the attempt. Connections go only where `EndpointRules` allow.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
import orjson
from standardwebhooks import Webhook

from shopcast.core.clock import Clock, SystemClock
from shopcast.core.db import Database
from shopcast.outbox.schemas import Outgoing
from shopcast.outbox.worker import Delivered, SendFailed
from shopcast.webhooks import service
from shopcast.webhooks.addresses import EndpointRules, RefusedAddress, UnsafeUrl

EXCERPT_BYTES = 1024  # of the answer's body read, at most
EXCERPT_CHARS = 300  # of it kept with the attempt
USER_AGENT = "Shopcast-Webhooks/1"


def sign(webhook_id: str, sent_at: datetime, body: bytes, secrets: list[str]) -> str:
    """The `webhook-signature` header: one signature per secret, space-separated."""
    return " ".join(Webhook(secret).sign(webhook_id, sent_at, body) for secret in secrets)


def excerpt(content: bytes) -> str:
    text = " ".join(content.decode("utf-8", errors="replace").split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (a number of seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when.astimezone(UTC) - now).total_seconds()) if when.tzinfo is not None else None


class WebhookSender:
    """Sends webhook deliveries with one HTTP client (made at the first send, closed with `close`).

    `clock` is the app's (which secrets are still valid); `wall_clock` stamps each attempt, which the
    receiver compares with its own clock."""

    def __init__(
        self,
        database: Database,
        *,
        rules: EndpointRules,
        timeout: float,
        clock: Clock,
        wall_clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.rules = rules
        self.timeout = timeout
        self.clock = clock
        self.wall_clock = wall_clock or SystemClock()
        self._http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=self.rules.connector(),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": USER_AGENT},
            )
        return self._http

    async def send(self, message: Outgoing) -> Delivered:
        try:
            endpoint_id = uuid.UUID(message.recipient)
        except ValueError:
            raise SendFailed(f"not an endpoint: {message.recipient!r}", permanent=True) from None
        async with self.database.transaction() as session:
            found = await service.destination(session, endpoint_id=endpoint_id, now=self.clock.now())
        if found is None:
            raise SendFailed("the endpoint was deleted", permanent=True)
        if not found.enabled:
            raise SendFailed("the endpoint is turned off", permanent=True)
        try:
            target = self.rules.check(found.url)
        except UnsafeUrl as exc:
            raise SendFailed(f"refused: {exc.reason}", permanent=exc.lasting) from None
        body = orjson.dumps(message.payload)
        webhook_id = str(message.id)
        sent_at = self.wall_clock.now()
        headers = {
            "Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(math.floor(sent_at.timestamp())),
            "webhook-signature": sign(webhook_id, sent_at, body, found.secrets),
        }
        try:
            async with self._client().post(target.url, data=body, headers=headers, allow_redirects=False) as answer:
                status, reason, answered = answer.status, answer.reason or "", answer.headers
                content = b""
                while len(content) < EXCERPT_BYTES and (
                    chunk := await answer.content.read(EXCERPT_BYTES - len(content))
                ):
                    content += chunk
        except TimeoutError:
            raise SendFailed(f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                raise SendFailed(f"refused: {exc.os_error.reason}") from None
            raise SendFailed(
                f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}"
            ) from None
        except aiohttp.ClientError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from None
        detail = " ".join(filter(None, [str(status), reason])) + (f": {excerpt(content)}" if content.strip() else "")
        if 200 <= status < 300:
            return Delivered(detail, status)
        if status == 410:
            async with self.database.transaction() as session:
                why = f"it answered 410 Gone on {self.clock.now():%Y-%m-%d %H:%M} UTC"
                await service.turn_off(session, endpoint_id=endpoint_id, reason=why, now=self.clock.now())
            raise SendFailed(
                f"{detail} (the endpoint wants no more: it is turned off)", permanent=True, status_code=410
            )
        if 300 <= status < 400:
            where = answered.get("Location")
            hint = f" to {where}" if where else ""
            raise SendFailed(
                f"{detail} (redirects are not followed: change the endpoint's address{hint})", status_code=status
            )
        wait = retry_after(answered.get("Retry-After"), self.wall_clock.now())
        raise SendFailed(detail, status_code=status, retry_after=wait)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
