"""Tables of the shop: products and stock, lineups and pins, carts with holds, orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class Product(Base):
    """A brand's product; prices in integer minor units of `currency`."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("brand_id", "handle"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    # The product's key in the brand's feed: imports update the product with the same handle.
    handle: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[int]
    compare_at_price: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3))
    # Archived products stay for the orders that name them, but leave lineups and sales.
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Variant(Base):
    """One buyable form of a product (a size, a colour) with its own stock."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("brand_id", "sku"),
        # The last line of defence against overselling: the database refuses negative stock.
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        Index("ix_variants_product", "product_id", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    price: Mapped[int | None]  # None: the product's price
    # Units still for sale: units held in carts and sold are already taken off.
    stock: Mapped[int]


class LineupEntry(Base):
    """A product the episode will show, in the host's order."""

    __tablename__ = "lineup_entries"

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int]


class Pin(Base):
    """A product shown over the video from `shown_at` to `hidden_at`, perhaps as a flash deal."""

    __tablename__ = "pins"
    __table_args__ = (
        Index("ix_pins_episode_shown", "episode_id", "shown_at"),
        CheckConstraint("deal_sold >= 0 AND (deal_quantity IS NULL OR deal_sold <= deal_quantity)", name="deal_sold"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    shown_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    shown_at: Mapped[datetime]
    hidden_at: Mapped[datetime | None]
    deal_price: Mapped[int | None]
    deal_quantity: Mapped[int | None]
    deal_sold: Mapped[int] = mapped_column(default=0)  # units claimed at the deal price
    deal_starts_at: Mapped[datetime | None]
    deal_ends_at: Mapped[datetime | None]
    deal_ended_reason: Mapped[str | None] = mapped_column(String(12))  # "time" | "sold_out" | "stopped"


class CommerceSettings(Base):
    """How a brand sells: currency, shipping rates, taxes and where its shop takes over."""

    __tablename__ = "commerce_settings"

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    flat_rate: Mapped[int]
    free_above: Mapped[int | None]
    pickup_stores: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tax_rate_bp: Mapped[int]  # basis points: 2000 = 20 %
    tax_included: Mapped[bool]
    shop_checkout_url: Mapped[str | None] = mapped_column(String(1000))
    # Signs the cart handed to the brand's shop and verifies the shop's payment callbacks.
    shop_secret: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class Cart(Base):
    """One viewer's cart in one brand (a guest's or an account's, the same on every device)."""

    __tablename__ = "carts"
    __table_args__ = (UniqueConstraint("brand_id", "owner_kind", "owner_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    owner_kind: Mapped[str] = mapped_column(String(8))  # "user" | "guest"
    owner_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The email the viewer typed at checkout without ordering (yet), in the page's language: where the
    # cart's one follow-up goes, `followed_up_at` once it is decided (sent, or not for an unsubscribed address).
    email: Mapped[str | None] = mapped_column(String(254))
    email_language: Mapped[str | None] = mapped_column(String(8))
    email_at: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]


class CartItem(Base):
    """A variant in a cart; during a live its units are held (taken off stock) until `held_until`."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint(
            "quantity > 0 AND held_quantity >= 0 AND held_quantity <= quantity"
            " AND deal_quantity >= 0 AND deal_quantity <= held_quantity",
            name="quantities",
        ),
        Index("ix_cart_items_held_until", "held_until"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    # The live it was added in: its sales count there ("12 bought during this live").
    episode_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    quantity: Mapped[int]
    held_quantity: Mapped[int] = mapped_column(default=0)
    held_until: Mapped[datetime | None]
    # Units claimed from a flash deal (always held units) and the price they were claimed at.
    deal_pin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pins.id", ondelete="SET NULL"))
    deal_quantity: Mapped[int] = mapped_column(default=0)
    deal_price: Mapped[int | None]
    added_at: Mapped[datetime]


class Order(Base):
    """What a viewer bought, priced and totalled by the server at checkout."""

    __tablename__ = "orders"
    __table_args__ = (
        # The same Idempotency-Key from the same buyer is the same order, never a second one.
        UniqueConstraint("brand_id", "buyer_kind", "buyer_id", "idempotency_key"),
        Index("ix_orders_brand_created", "brand_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    buyer_kind: Mapped[str] = mapped_column(String(8))
    buyer_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    shipping_method: Mapped[str] = mapped_column(String(10))  # "delivery" | "pickup"
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pickup_store: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    items_total: Mapped[int]
    shipping_total: Mapped[int]
    tax_total: Mapped[int]
    tax_included: Mapped[bool]
    total: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    # The language of the page that placed it: the buyer's emails are written in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    payment_provider: Mapped[str] = mapped_column(String(20))
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class OrderLine(Base):
    """One variant of an order, with the prices it was sold at (copied: products change later)."""

    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_episode", "episode_id", "product_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)  # the cart's order, which the buyer saw
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id", ondelete="RESTRICT"))
    episode_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[int]
    deal_quantity: Mapped[int] = mapped_column(default=0)
    deal_price: Mapped[int | None]
    line_total: Mapped[int]


class OrderStatusChange(Base):
    """An order moved on (paid, fulfilled, cancelled): when, and who did it.

    The order placed is not a row: it is the order's `created_at`, by its buyer."""

    __tablename__ = "order_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # the status it moved to
    at: Mapped[datetime]
    by_kind: Mapped[str] = mapped_column(String(12))  # "staff" | "brand_shop"
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The staff member's name then: kept when the account is renamed or removed.
    by_name: Mapped[str | None] = mapped_column(String(120))


class CardView(Base):
    """A viewer's page showed a pinned product's card: one fact per viewer, pin, live or replay, for reports."""

    __tablename__ = "card_views"
    __table_args__ = (Index("ix_card_views_episode", "episode_id", "viewed_at"),)

    pin_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pins.id", ondelete="CASCADE"), primary_key=True)
    # Who, only to count each viewer once (reports show counts, never who).
    viewer_kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    viewer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Seen over the replay (after the live ended): a viewer of the live who comes back counts again.
    replay: Mapped[bool] = mapped_column(primary_key=True, default=False, server_default=false())
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    viewed_at: Mapped[datetime]


class CartAddition(Base):
    """Units put in a cart from an episode's card (live or replay): kept after the cart line is
    bought or removed, for reports."""

    __tablename__ = "cart_additions"
    __table_args__ = (Index("ix_cart_additions_episode", "episode_id", "added_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    variant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    # The cart's owner, only to count carts (reports show counts, never who).
    shopper_kind: Mapped[str] = mapped_column(String(8))
    shopper_id: Mapped[uuid.UUID]
    quantity: Mapped[int]
    added_at: Mapped[datetime]
