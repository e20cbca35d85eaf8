from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shopcast.core.errors import InvalidValue
from shopcast.core.security import Role

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise InvalidValue("errors.field.control_characters")
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"),
]
Nickname = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32), AfterValidator(_printable)
]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")]


class LoginRequest(BaseModel):
    email: Email = Field(description="The staff account's email address.")
    password: str = Field(min_length=1, max_length=1024, description="The account's password.")


class GuestRequest(BaseModel):
    nickname: Nickname | None = Field(
        None,
        description="The name shown next to the viewer's chat messages. Without one, a nameless guest: "
        "votes, enters giveaways, reacts and buys, but cannot chat until they pick one.",
    )


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str = Field(description="The brand's short name in public links.")
    name: str
    default_language: str = Field(
        description="The language of the brand's pages for visitors whose browser asks for none Shopcast has."
    )
    reminder_lead_minutes: int = Field(
        description="How long before an episode starts the viewers who asked are emailed a reminder."
    )
    cart_follow_up_minutes: int | None = Field(
        description="How long after its episode ended a cart left with a known email gets its one follow-up; "
        "null: no follow-ups."
    )


class BrandUpdate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    default_language: str | None = Field(
        None, description="A language Shopcast has a catalogue for (`en`, `fr`): docs/operations.md, Languages."
    )
    reminder_lead_minutes: int | None = Field(
        None, ge=1, le=24 * 60, description="Minutes before an episode's start its reminders go (1 to 1440)."
    )
    cart_follow_up_minutes: int | None = Field(
        None,
        ge=10,
        le=7 * 24 * 60,
        description="Minutes after an episode ends that a cart left with a known email is followed up (10 to 10080); "
        "null turns follow-ups off.",
    )


class MembershipOut(BaseModel):
    brand: BrandOut
    role: Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str


class Me(BaseModel):
    """The signed-in caller: a staff user with their brands, or a guest viewer."""

    kind: str = Field(description="`user` or `guest`.")
    id: uuid.UUID
    name: str
    memberships: list[MembershipOut] = Field(default_factory=list)


class TokenOut(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime
    me: Me


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    display_name: str
    role: Role
