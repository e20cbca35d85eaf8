"""Typed errors, raised by services and mapped once in web/ to problem responses and acks."""

from __future__ import annotations

import math
from typing import Any


class ShopcastError(Exception):
    """Base of every error a client can be told about."""

    status = 500
    slug = "internal-error"
    title = "Something went wrong"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class BadRequest(ShopcastError):
    status, slug, title = 400, "bad-request", "The request could not be read"


class InvalidInput(ShopcastError):
    status, slug, title = 422, "invalid-input", "Some fields are not valid"


class Unauthorized(ShopcastError):
    status, slug, title = 401, "unauthorized", "Sign in first"


class Forbidden(ShopcastError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ShopcastError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ShopcastError):
    status, slug, title = 409, "conflict", "Not possible in the current state"


class PayloadTooLarge(ShopcastError):
    status, slug, title = 413, "payload-too-large", "The request is too large"


class UnsupportedMediaType(ShopcastError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported content type"


class TooManyRequests(ShopcastError):
    status, slug, title = 429, "too-many-requests", "Slow down"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        # Rounded up: a client that waits what it is told must get in (the millisecond is float slack).
        self.retry_after = max(1, math.ceil(retry_after - 0.001))
        super().__init__(detail, extra={"retry_after": self.retry_after})


class Busy(ShopcastError):
    """The server has more work than it can take just now (no database connection came free)."""

    status, slug, title = 503, "busy", "Busy, try again shortly"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
