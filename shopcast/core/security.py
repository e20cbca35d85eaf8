"""Who is calling and what they may do: password hashes, bearer tokens, role checks."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shopcast.core.clock import Clock
from shopcast.core.errors import Forbidden, Phrase, Unauthorized
from shopcast.core.settings import Settings


class Role(StrEnum):
    """A user's role in one brand."""

    MANAGER = "manager"
    HOST = "host"
    MODERATOR = "moderator"


@dataclass(frozen=True)
class Principal:
    """The caller: a staff user with roles per brand, or a guest viewer known by a nickname."""

    kind: Literal["user", "guest"]
    id: uuid.UUID
    name: str
    roles: Mapping[uuid.UUID, Role] = field(default_factory=dict)

    @property
    def is_guest(self) -> bool:
        return self.kind == "guest"


def _role_word(role: Role) -> Phrase:
    return Phrase(f"errors.role.{role.value}")


def signed_in(actor: Principal | None) -> Principal:
    """The caller, who must have a token (staff or guest)."""
    if actor is None:
        raise Unauthorized("errors.auth.token_needed")
    return actor


def authorize(actor: Principal | None, brand_id: uuid.UUID, *roles: Role) -> Principal:
    """The one check every protected action makes: signed in, and one of `roles` in this brand."""
    actor = signed_in(actor)
    if actor.is_guest:
        raise Forbidden("errors.auth.guest")
    role = actor.roles.get(brand_id)
    if role is None:
        raise Forbidden("errors.auth.no_role")
    if roles and role not in roles:
        wanted = functools.reduce(lambda a, b: Phrase("errors.either", first=a, last=b), map(_role_word, roles))
        raise Forbidden("errors.auth.role_needed", wanted=wanted, role=_role_word(role))
    return actor


_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("shopcast-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    kind: Literal["user", "guest"]
    subject: uuid.UUID
    name: str


class TokenSigner:
    """Signed, expiring bearer tokens (JWT, HS256)."""

    _ALGORITHM = "HS256"
    _AUDIENCE = "shopcast"

    def __init__(self, secret: str, *, clock: Clock, user_ttl: timedelta, guest_ttl: timedelta) -> None:
        self._secret = secret
        self._clock = clock
        self._ttl = {"user": user_ttl, "guest": guest_ttl}

    def issue(self, kind: Literal["user", "guest"], subject: uuid.UUID, name: str) -> IssuedToken:
        now = self._clock.now()
        expires_at = now + self._ttl[kind]
        claims = {"sub": str(subject), "kind": kind, "name": name, "aud": self._AUDIENCE, "iat": now, "exp": expires_at}
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=self._ALGORITHM), expires_at)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._ALGORITHM],
                audience=self._AUDIENCE,
                # The app's clock decides expiry (checked below), so it can be tested at any date.
                options={"require": ["exp", "sub", "kind"], "verify_exp": False, "verify_iat": False},
            )
            if float(claims["exp"]) <= self._clock.now().timestamp():
                raise jwt.ExpiredSignatureError("expired")
            kind = claims["kind"]
            if kind not in ("user", "guest"):
                raise Unauthorized("errors.auth.not_shopcast")
            return TokenClaims(kind=kind, subject=uuid.UUID(claims["sub"]), name=str(claims.get("name", "")))
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("errors.auth.expired") from exc
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise Unauthorized("errors.auth.invalid_token") from exc

    def sign_link(self, audience: str, subject: uuid.UUID, ttl: timedelta) -> str:
        """A token for a link that shows one thing (`subject`) for `ttl`, where no bearer token can go
        (a frame's address); its audience keeps it from being used for anything else."""
        now = self._clock.now()
        claims = {"sub": str(subject), "aud": audience, "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self._secret, algorithm=self._ALGORITHM)

    def read_link(self, token: str, audience: str) -> uuid.UUID:
        """The subject of a link token from `sign_link` with this audience, or 401."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._ALGORITHM],
                audience=audience,
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
            )
            if float(claims["exp"]) <= self._clock.now().timestamp():
                raise Unauthorized("errors.auth.link_expired")
            return uuid.UUID(claims["sub"])
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise Unauthorized("errors.auth.link_invalid") from exc


def token_signer(settings: Settings, clock: Clock) -> TokenSigner:
    """The signer of these settings' tokens and links (the app's, the outbox worker's)."""
    return TokenSigner(
        settings.signing_key(),
        clock=clock,
        user_ttl=timedelta(minutes=settings.token_ttl_minutes),
        guest_ttl=timedelta(minutes=settings.guest_token_ttl_minutes),
    )
