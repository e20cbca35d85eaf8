"""Who is chatting: a viewer or staff member as the room knows them, with an opaque reference."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Literal

from shopcast.chat.schemas import AuthorRole
from shopcast.core.security import Principal


@dataclass(frozen=True)
class Chatter:
    kind: Literal["user", "guest", "anonymous"]
    id: uuid.UUID
    name: str
    # Shown to everyone instead of the account or guest id, so a message never reveals who
    # is behind it, while clients can still tell their own messages apart.
    ref: str
    role: AuthorRole

    @property
    def is_staff(self) -> bool:
        return self.role != "viewer"

    @property
    def is_anonymous(self) -> bool:
        """Watching without a nickname: reads the chat and reacts, cannot write."""
        return self.kind == "anonymous"


def viewer_ref(secret: bytes, brand_id: uuid.UUID, kind: str, viewer_id: uuid.UUID) -> str:
    digest = hmac.new(secret, f"{brand_id}:{kind}:{viewer_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


def chatter(actor: Principal | None, brand_id: uuid.UUID, *, secret: bytes, anonymous_id: uuid.UUID) -> Chatter:
    """The caller as the brand's chat sees them: staff of this brand get their role, anyone else is a viewer."""
    if actor is None:
        ref = viewer_ref(secret, brand_id, "anonymous", anonymous_id)
        return Chatter(kind="anonymous", id=anonymous_id, name="", ref=ref, role="viewer")
    role = actor.roles.get(brand_id)
    return Chatter(
        kind=actor.kind,
        id=actor.id,
        name=actor.name,
        ref=viewer_ref(secret, brand_id, actor.kind, actor.id),
        role=role.value if role is not None else "viewer",
    )
