"""How an order is paid: a provider tells the buyer what to do next and learns when it is paid.

Two providers need no outside service:
- `pay_later`: the order is confirmed and paid at pickup or on invoice; staff mark it paid.
- `brand_shop`: the order is handed to the brand's own shop through a signed link
  (`shop_checkout_url?cart=<JWT>`, HS256 with the brand's shop secret); the shop takes the
  payment and confirms it with a JWT it signs with the same secret (docs/operations.md).

A card provider plugs in as a third `PaymentProvider`: `start` creates the provider's checkout
session and returns its redirect URL, and a webhook route verifies the provider's signature and
calls `orders.mark_paid` (docs/operations.md, "Adding a payment provider").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import jwt

from shopcast.catalog.models import CommerceSettings, Order, OrderLine
from shopcast.catalog.schemas import PaymentName, PaymentOut
from shopcast.core.errors import InvalidInput, Unauthorized

SHOP_LINK_HOURS = 24  # how long the brand's shop accepts a handed-over cart
SHOP_AUDIENCE = "brand-shop"  # the `aud` of carts Shopcast signs for the shop
SHOPCAST_AUDIENCE = "shopcast"  # the `aud` of payment confirmations the shop signs for Shopcast


class PaymentProvider(Protocol):
    name: PaymentName

    def offered(self, settings: CommerceSettings) -> bool:
        """Whether the brand's settings allow this way to pay."""

    def start(self, order: Order, lines: list[OrderLine], settings: CommerceSettings, *, now: datetime) -> PaymentOut:
        """What the buyer does next to pay the order (asked again each time the order is shown)."""


def settled(order: Order, provider: PaymentName, paid: str) -> PaymentOut | None:
    """What an order no longer waiting for its payment says, whatever the provider."""
    if order.status == "cancelled":
        return PaymentOut(provider=provider, redirect_url=None, instructions="The order was cancelled: nothing to pay.")
    if order.status != "pending_payment":
        return PaymentOut(provider=provider, redirect_url=None, instructions=paid)
    return None


class PayLater:
    name: PaymentName = "pay_later"

    def offered(self, settings: CommerceSettings) -> bool:
        return True

    def start(self, order: Order, lines: list[OrderLine], settings: CommerceSettings, *, now: datetime) -> PaymentOut:
        if done := settled(order, self.name, "Paid."):
            return done
        if order.pickup_store is not None:
            instructions = f"Pay when you collect your order at {order.pickup_store['name']}."
        else:
            instructions = f"An invoice for order {order.number} will be sent to {order.email}."
        return PaymentOut(provider=self.name, redirect_url=None, instructions=instructions)


class BrandShop:
    name: PaymentName = "brand_shop"

    def offered(self, settings: CommerceSettings) -> bool:
        return bool(settings.shop_checkout_url)

    def start(self, order: Order, lines: list[OrderLine], settings: CommerceSettings, *, now: datetime) -> PaymentOut:
        if done := settled(order, self.name, "Paid on the brand's shop."):
            return done
        if not settings.shop_checkout_url:  # the brand took its shop away since the order was placed
            return PaymentOut(provider=self.name, redirect_url=None, instructions="The brand will tell you how to pay.")
        claims = {
            "iss": "shopcast",
            "aud": SHOP_AUDIENCE,
            "sub": str(order.id),
            "order_number": order.number,
            "currency": order.currency,
            "total": order.total,
            "email": order.email,
            "name": order.name,
            "items": [
                {"sku": line.sku, "title": line.title, "quantity": line.quantity, "line_total": line.line_total}
                for line in lines
            ],
            "shipping": order.shipping_total,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(hours=SHOP_LINK_HOURS)).timestamp()),
        }
        token = jwt.encode(claims, settings.shop_secret, algorithm="HS256")
        separator = "&" if "?" in settings.shop_checkout_url else "?"
        return PaymentOut(
            provider=self.name,
            redirect_url=f"{settings.shop_checkout_url}{separator}{urlencode({'cart': token})}",
            instructions="Finish paying on the brand's shop.",
        )


PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (PayLater(), BrandShop())}


def provider(name: str, settings: CommerceSettings) -> PaymentProvider:
    found = PROVIDERS.get(name)
    if found is None or not found.offered(settings):
        raise InvalidInput("errors.payment.not_offered", name=name)
    return found


def read_shop_confirmation(token: str, settings: CommerceSettings, *, now: datetime) -> dict[str, Any]:
    """The claims of a payment confirmation signed by the brand's shop, or 401."""
    try:
        claims = jwt.decode(
            token,
            settings.shop_secret,
            algorithms=["HS256"],
            audience=SHOPCAST_AUDIENCE,
            # Expiry by the app's clock (below), so it can be tested at any date.
            options={"require": ["exp", "order_id", "status"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("errors.payment.invalid", reason=str(exc)) from exc
    if float(claims["exp"]) <= now.timestamp():
        raise Unauthorized("errors.payment.expired")
    return claims
