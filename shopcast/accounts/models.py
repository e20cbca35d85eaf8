from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id
from shopcast.core.security import Role


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    # The pages' language for a visitor whose browser asks for none Shopcast has (shopcast/locales/).
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # How long before an episode starts the viewers who asked are reminded of it.
    reminder_lead_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # How long after its episode ended a cart left with a known email gets its one follow-up; None: never.
    cart_follow_up_minutes: Mapped[int | None] = mapped_column(default=60, server_default="60")


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class Membership(Base):
    """A user's one role in one brand."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(Enum(Role, name="role", values_callable=lambda e: [r.value for r in e]))
    created_at: Mapped[datetime]
