"""Brands, staff accounts, sign-in and guest viewers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.accounts.models import Brand, Membership, User
from shopcast.accounts.schemas import BrandOut, BrandUpdate, Me, MemberOut, MembershipOut, TokenOut
from shopcast.core import catalogues
from shopcast.core.errors import InvalidInput, NotFound, Phrase, Unauthorized
from shopcast.core.ids import new_id
from shopcast.core.ratelimit import RateLimiter, enforce
from shopcast.core.security import (
    Principal,
    Role,
    TokenSigner,
    authorize,
    hash_password,
    signed_in,
    verify_password,
)

MIN_PASSWORD_LENGTH = 8


async def create_brand(session: AsyncSession, *, slug: str, name: str, now: datetime) -> Brand:
    """Create a brand, or return the existing one with that slug."""
    brand = await session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        brand = Brand(id=new_id(), slug=slug, name=name, created_at=now)
        session.add(brand)
        await session.flush()
    return brand


async def get_brand(session: AsyncSession, *, slug: str) -> Brand:
    """The brand with this slug, or 404."""
    brand = await session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        raise NotFound("errors.brand.none", slug=slug)
    return brand


async def default_language(session: AsyncSession, *, brand_id: uuid.UUID) -> str | None:
    """The brand's pages' language for visitors whose browser asks for none Shopcast has."""
    return await session.scalar(select(Brand.default_language).where(Brand.id == brand_id))


async def update_brand(
    session: AsyncSession, *, actor: Principal | None, brand_slug: str, data: BrandUpdate
) -> BrandOut:
    """Rename the brand, change its pages' default language or its reminders' and follow-ups' delays (managers)."""
    brand = await get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER)
    if data.default_language is not None:
        if data.default_language not in catalogues.languages():
            raise InvalidInput("errors.brand.language", languages=", ".join(catalogues.languages()))
        brand.default_language = data.default_language
    if data.name is not None:
        brand.name = data.name
    if data.reminder_lead_minutes is not None:
        brand.reminder_lead_minutes = data.reminder_lead_minutes
    if "cart_follow_up_minutes" in data.model_fields_set:  # null: no follow-ups
        brand.cart_follow_up_minutes = data.cart_follow_up_minutes
    await session.flush()
    return BrandOut.model_validate(brand)


async def list_brands(session: AsyncSession) -> list[Brand]:
    return list(await session.scalars(select(Brand).order_by(Brand.slug)))


async def add_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: Role,
    brand: Brand,
    now: datetime,
    display_name: str | None = None,
) -> User:
    """Create a staff user (or update an existing one's password) and give them `role` in `brand`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("errors.auth.password_short", count=MIN_PASSWORD_LENGTH)
    email = email.strip().lower()
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            id=new_id(),
            email=email,
            display_name=display_name or email.split("@")[0],
            password_hash=hash_password(password),
            created_at=now,
        )
        session.add(user)
        await session.flush()
    else:
        user.password_hash = hash_password(password)
        if display_name:
            user.display_name = display_name
    membership = await session.get(Membership, (user.id, brand.id))
    if membership is None:
        session.add(Membership(user_id=user.id, brand_id=brand.id, role=role, created_at=now))
    else:
        membership.role = role
    await session.flush()
    return user


async def find_user(session: AsyncSession, *, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("errors.auth.no_user", email=email)
    return user


async def load_principal(session: AsyncSession, *, user_id: uuid.UUID) -> Principal:
    """The staff caller with their current roles (read per request, so a removed role takes effect)."""
    user = await session.get(User, user_id)
    if user is None:
        raise Unauthorized("errors.auth.no_account")
    rows = await session.execute(select(Membership.brand_id, Membership.role).where(Membership.user_id == user_id))
    return Principal(kind="user", id=user.id, name=user.display_name, roles={b: r for b, r in rows.all()})


def guest_principal(*, guest_id: uuid.UUID, nickname: str) -> Principal:
    return Principal(kind="guest", id=guest_id, name=nickname)


async def describe(session: AsyncSession, *, actor: Principal | None) -> Me:
    """What the caller sees of themselves: identity and brands."""
    actor = signed_in(actor)
    memberships: list[MembershipOut] = []
    if not actor.is_guest and actor.roles:
        brands = await session.scalars(select(Brand).where(Brand.id.in_(actor.roles)).order_by(Brand.name))
        memberships = [MembershipOut(brand=BrandOut.model_validate(b), role=actor.roles[b.id]) for b in brands]
    return Me(kind=actor.kind, id=actor.id, name=actor.name, memberships=memberships)


async def log_in(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    signer: TokenSigner,
    limiter: RateLimiter,
    max_attempts: int,
    max_attempts_per_account: int,
    window_seconds: int,
    client: str,
) -> TokenOut:
    """Exchange an email and password for a bearer token; attempts are limited per client and email."""
    # Narrowest first, and a refused try goes no further: a stranger guessing from one address
    # uses up only their own allowance, never the account's, so they cannot lock its owner out.
    # The account-wide ceiling, much higher, slows a guessing attack spread over many addresses.
    for key, limit, what in (
        (f"login-client:{client}", max_attempts * 5, "errors.limit.sign_in_here"),
        (f"login:{email}:{client}", max_attempts, "errors.limit.sign_in_email_here"),
        (f"login:{email}", max_attempts_per_account, "errors.limit.sign_in_email"),
    ):
        await enforce(limiter, key, limit=limit, window_seconds=window_seconds, what=Phrase(what))
    user = await session.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("errors.auth.wrong_password")
    actor = await load_principal(session, user_id=user.id)
    issued = signer.issue("user", user.id, user.display_name)
    return TokenOut(token=issued.token, expires_at=issued.expires_at, me=await describe(session, actor=actor))


async def join_as_guest(
    *,
    nickname: str | None,
    actor: Principal | None,
    signer: TokenSigner,
    limiter: RateLimiter,
    max_per_window: int,
    window_seconds: int,
    client: str,
) -> TokenOut:
    """Give a viewer a guest token, with a nickname or none yet; a guest's own token keeps their id."""
    if actor is not None and actor.is_guest:
        # The same viewer picking (or changing) their nickname: their votes, entries, cart and any
        # restriction stay theirs. Nobody new is made, so it does not count against the limit.
        guest_id, name = actor.id, nickname if nickname is not None else actor.name
    else:
        await enforce(
            limiter,
            f"guest:{client}",
            limit=max_per_window,
            window_seconds=window_seconds,
            what=Phrase("errors.limit.guests"),
        )
        guest_id, name = new_id(), nickname or ""
    issued = signer.issue("guest", guest_id, name)
    return TokenOut(token=issued.token, expires_at=issued.expires_at, me=Me(kind="guest", id=guest_id, name=name))


async def list_members(session: AsyncSession, *, actor: Principal | None, brand_slug: str) -> list[MemberOut]:
    """The brand's staff and their roles (for choosing a show's host)."""
    brand = await get_brand(session, slug=brand_slug)
    authorize(actor, brand.id, Role.MANAGER, Role.HOST, Role.MODERATOR)
    rows = await session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.brand_id == brand.id)
        .order_by(User.display_name)
    )
    return [MemberOut(user_id=u.id, email=u.email, display_name=u.display_name, role=r) for u, r in rows.all()]


async def role_in_brand(session: AsyncSession, *, user_id: uuid.UUID, brand_id: uuid.UUID) -> Role | None:
    membership = await session.get(Membership, (user_id, brand_id))
    return membership.role if membership else None


async def display_names(session: AsyncSession, *, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows.all()}


async def get_brand_by_id(session: AsyncSession, *, brand_id: uuid.UUID) -> Brand:
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("errors.brand.no_such")
    return brand


async def staff_ids(session: AsyncSession, *, brand_id: uuid.UUID) -> set[uuid.UUID]:
    """The brand's staff (any role): left out of audience figures."""
    return set(await session.scalars(select(Membership.user_id).where(Membership.brand_id == brand_id)))
