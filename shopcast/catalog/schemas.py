"""What the shop takes in and gives out. Prices are integer minor units; the client never sends one
that is trusted (fields it may send besides these are ignored)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, EmailStr, Field, StringConstraints, field_validator

from shopcast.catalog import pictures
from shopcast.core.errors import InvalidValue, Phrase

MAX_LINE_QUANTITY = 20  # units of one variant per cart line: more is a reseller, not a viewer
MAX_PRICE = 100_000_000  # one million in major units

Money = Annotated[int, Field(ge=0, le=MAX_PRICE, description="Integer minor units (cents).")]
Quantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Handle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=100, pattern=r"^[a-z0-9-_.]+$"),
]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionName = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]
OptionValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Stock = Annotated[int, Field(ge=0, le=10_000_000)]


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidValue("errors.field.web_address")
    return value


def _picture_url(value: str) -> str:
    if pictures.URL.match(value):  # a picture uploaded to Shopcast, on Shopcast itself
        return value
    if urlsplit(value).scheme != "https" or not urlsplit(value).netloc:
        raise InvalidValue("errors.field.picture_address")
    return value


WebUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_web_url)]
PictureUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_picture_url)]


# --- catalog ---------------------------------------------------------------------------------


class VariantIn(BaseModel):
    sku: Sku
    options: dict[OptionName, OptionValue] = Field(default_factory=dict, max_length=5, description='e.g. {"size": "M"}')
    stock: Stock = 0
    price: Money | None = Field(None, description="Its own price; default: the product's.")


class ProductIn(BaseModel):
    handle: Handle | None = Field(None, description="The product's key in feeds; default: made from the title.")
    title: Title
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    image_urls: list[PictureUrl] = Field(default_factory=list, max_length=20)
    price: Money
    compare_at_price: Money | None = Field(None, description="The former price, shown struck through.")
    currency: Currency | None = Field(None, description="Must be the brand's currency; default: it.")
    variants: list[VariantIn] = Field(min_length=1, max_length=100)

    @field_validator("variants")
    @classmethod
    def _distinct_skus(cls, value: list[VariantIn]) -> list[VariantIn]:
        skus = [v.sku for v in value]
        if len(set(skus)) != len(skus):
            raise InvalidValue("errors.product.sku_per_variant")
        return value


class ProductUpdate(BaseModel):
    title: Title | None = None
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    image_urls: list[PictureUrl] | None = Field(None, max_length=20)
    price: Money | None = None
    compare_at_price: Money | None = None
    variants: list[VariantIn] | None = Field(
        None, max_length=100, description="Variants to change (matched by sku) or add; others are kept."
    )


class VariantOut(BaseModel):
    id: uuid.UUID
    sku: str
    options: dict[str, str]
    label: str = Field(description='The options for people, e.g. "M / Red".')
    price: int
    stock: int = Field(description="Units still for sale now.")
    sold_out: bool


class ProductCard(BaseModel):
    """A product as viewers see it on a pin or in the lineup."""

    id: uuid.UUID
    brand_id: uuid.UUID
    title: str = Field(description="Plain text: show it as text, never as HTML (as every text here).")
    summary: str
    description: str
    image_urls: list[str]
    price: int
    compare_at_price: int | None
    currency: str
    variants: list[VariantOut]
    sold_out: bool


class ProductOut(ProductCard):
    handle: str
    archived: bool
    created_at: datetime
    updated_at: datetime


class Picture(BaseModel):
    """A picture uploaded to Shopcast, in each size the pages use (WebP, cached for ever)."""

    url: str = Field(description="The largest size: what the product's `image_urls` lists.")
    width: int = Field(description="Of the largest size, in pixels.")
    height: int
    sizes: dict[int, str] = Field(description="Each size (the square it fits in, in pixels) and its address.")


class PictureAdded(BaseModel):
    picture: Picture
    product: ProductOut


class ImportIn(BaseModel):
    format: Literal["csv", "json"]
    content: str = Field(min_length=1, description="The feed's text (docs/operations.md describes its columns).")


class ImportError_(BaseModel):
    line: int = Field(description="The row's line in a CSV file (the header is line 1), or its number in a JSON list.")
    reason: Phrase = Field(description="Why the row was not imported, in the request's language.")


class ImportReport(BaseModel):
    rows: int
    created: int = Field(description="Products created.")
    updated: int = Field(description="Products updated.")
    variants: int = Field(description="Variants created or updated.")
    errors: list[ImportError_]


# --- lineup, pins and flash deals ------------------------------------------------------------


class LineupIn(BaseModel):
    product_ids: list[uuid.UUID] = Field(max_length=200, description="The products in the order they will be shown.")


class PinIn(BaseModel):
    product_id: uuid.UUID


class DealIn(BaseModel):
    price: Money
    quantity: int = Field(ge=1, le=100_000, description="Units sold at the deal price at most.")
    seconds: int = Field(ge=10, le=300, description="How long the deal runs.")


DealEnd = Literal["time", "sold_out", "stopped"]


class DealOut(BaseModel):
    price: int
    quantity: int
    remaining: int
    starts_at: datetime
    ends_at: datetime
    active: bool
    ended_reason: DealEnd | None


class PinOut(BaseModel):
    id: uuid.UUID
    episode_id: uuid.UUID
    product: ProductCard
    shown_at: datetime
    hidden_at: datetime | None
    deal: DealOut | None
    bought: int = Field(description="Units of this product bought during this episode.")


class PinHidden(BaseModel):
    pin_id: uuid.UUID
    product_id: uuid.UUID
    at: datetime


class StockChanged(BaseModel):
    product_id: uuid.UUID
    variant_id: uuid.UUID
    stock: int
    sold_out: bool = Field(description="Every variant of the product is at 0.")


class DealChanged(BaseModel):
    pin_id: uuid.UUID
    product_id: uuid.UUID
    remaining: int


class DealEnded(BaseModel):
    pin_id: uuid.UUID
    product_id: uuid.UUID
    reason: DealEnd
    price: int = Field(description="The regular price, which applies again.")


# --- commerce settings -----------------------------------------------------------------------


class PickupStore(BaseModel):
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    name: Line
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class CommerceIn(BaseModel):
    currency: Currency = "EUR"
    flat_rate: Money = Field(490, description="Delivery price of an order.")
    free_above: Money | None = Field(None, description="Delivery is free from this items total up.")
    pickup_stores: list[PickupStore] = Field(default_factory=list, max_length=200)
    tax_rate_percent: float = Field(20.0, ge=0, le=100, multiple_of=0.01)
    tax_included: bool = Field(True, description="Prices include the tax (shown as 'incl.'), or it is added.")
    shop_checkout_url: WebUrl | None = Field(
        None, description="The brand's shop page that takes a signed cart (the `brand_shop` payment)."
    )

    @field_validator("pickup_stores")
    @classmethod
    def _distinct_stores(cls, value: list[PickupStore]) -> list[PickupStore]:
        if len({s.id for s in value}) != len(value):
            raise InvalidValue("errors.commerce.store_ids")
        return value


class CommerceOut(CommerceIn):
    brand_id: uuid.UUID
    shop_secret: str = Field(description="Shared with the brand's shop: it verifies carts and signs payments with it.")


PaymentName = Literal["pay_later", "brand_shop"]


class ShippingOptions(BaseModel):
    currency: str
    flat_rate: int
    free_above: int | None
    pickup_stores: list[PickupStore]
    tax_rate_percent: float
    tax_included: bool
    payments: list[PaymentName]


# --- cart and checkout -----------------------------------------------------------------------


class CartAdd(BaseModel):
    variant_id: uuid.UUID
    quantity: Quantity = 1
    episode_id: uuid.UUID | None = Field(None, description="The live it is bought from: its units are held.")


class CartChange(BaseModel):
    quantity: Quantity


class CartItemOut(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID
    title: str
    label: str
    sku: str
    image_url: str | None
    quantity: int
    unit_price: int = Field(description="The price of a unit now (the deal price while deal units are held).")
    regular_price: int
    deal_quantity: int = Field(description="Units at the flash deal's price.")
    line_total: int
    held_quantity: int = Field(description="Units set aside for this cart until `held_until`.")
    held_until: datetime | None
    available: int = Field(description="Units that can still be bought: held here plus still for sale.")
    problem: Literal["sold_out", "short"] | None = Field(description="Why the line cannot be bought as it is.")


class CartOut(BaseModel):
    id: uuid.UUID | None  # None until the viewer first adds something: reading makes no cart
    brand_id: uuid.UUID
    currency: str
    items: list[CartItemOut]
    subtotal: int
    item_count: int
    hold_minutes: int


class Address(BaseModel):
    line1: Line
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    city: Line
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]


class Delivery(BaseModel):
    method: Literal["delivery"]
    address: Address | None = Field(None, description="Needed to order; optional for a quote.")


class Pickup(BaseModel):
    method: Literal["pickup"]
    store_id: str


Shipping = Annotated[Delivery | Pickup, Field(discriminator="method")]


class QuoteIn(BaseModel):
    shipping: Shipping


class CheckoutEmailIn(BaseModel):
    email: EmailStr = Field(description="The address the viewer typed at checkout, before ordering.")


class CheckoutIn(BaseModel):
    email: EmailStr
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    shipping: Shipping
    payment: PaymentName = "pay_later"


class Totals(BaseModel):
    items: int
    shipping: int
    tax: int = Field(description="Tax in the total (included) or added to it.")
    tax_included: bool
    total: int
    currency: str


OrderStatus = Literal["pending_payment", "paid", "fulfilled", "cancelled"]


class OrderLineOut(BaseModel):
    product_id: uuid.UUID
    variant_id: uuid.UUID
    episode_id: uuid.UUID | None = Field(description="The live it was bought during, if any.")
    title: str
    label: str
    sku: str
    quantity: int
    unit_price: int
    deal_quantity: int
    deal_price: int | None
    line_total: int


class ShippingOut(BaseModel):
    method: Literal["delivery", "pickup"]
    address: Address | None
    store: PickupStore | None


class PaymentOut(BaseModel):
    provider: PaymentName
    redirect_url: str | None = Field(description="Where to send the buyer to pay, if anywhere.")
    instructions: str


class OrderOut(BaseModel):
    id: uuid.UUID
    number: str
    status: OrderStatus
    email: str
    name: str
    items: list[OrderLineOut]
    totals: Totals
    shipping: ShippingOut
    payment: PaymentOut
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None


class OrderStatusIn(BaseModel):
    status: Literal["paid", "fulfilled", "cancelled"]


class ShopPaymentIn(BaseModel):
    token: str = Field(
        max_length=4000, description="A JWT the brand's shop signs with the shop secret (docs/operations.md)."
    )


class EpisodeSales(BaseModel):
    orders: int = Field(description="Orders with at least one line bought from the episode, not cancelled.")
    units: int = Field(description="Units bought from the episode in those orders.")
    revenue: int = Field(description="Those lines' totals in minor units (deal prices applied; no shipping).")
    currency: str = Field(description="The brand's currency (ISO 4217).")
