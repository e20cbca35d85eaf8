"""Which app process holds a session, and where the others reach it.

Each app process (a worker of `shopcast serve --workers N`, or a replica) is a node with an id of its
own, drawn at start. The ids of the sessions it holds in memory (Socket.IO long-polling, WebRTC
sessions) begin with it, so whichever process a request for one of them reaches knows which node
holds it. With Redis each node announces the address of its internal listener under its id, with a
lease it renews: a node that died is forgotten when the lease runs out, and its sessions with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import string
import time
from typing import Protocol

from redis.asyncio import Redis

from shopcast.core import tasks

log = logging.getLogger(__name__)
ID_LENGTH = 8
_ALPHABET = string.ascii_letters + string.digits
_ID = re.compile(rf"^[A-Za-z0-9]{{{ID_LENGTH}}}$")
LEASE_SECONDS = 15.0
RENEW_SECONDS = 5.0
REMEMBER_SECONDS = 5.0  # how long a node's address, or its absence, is kept before Redis is asked again


def new_node_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))


def owner_of(session_id: str) -> str | None:
    """The node a session id names as its holder, if it names one."""
    owner = session_id[:ID_LENGTH]
    return owner if len(session_id) > ID_LENGTH and _ID.match(owner) else None


class Nodes(Protocol):
    """This process's node, and the addresses of the others."""

    id: str

    def session_id(self, random_part: str) -> str:
        """A session id held by this node."""
        ...

    async def announce(self, address: str) -> None:
        """Tell the other nodes this one takes their requests at `address` (http://host:port), until closed."""
        ...

    async def address(self, node_id: str) -> str | None:
        """Where node `node_id` takes requests; None if it is unknown or gone."""
        ...

    async def close(self) -> None: ...


class _Node:
    def __init__(self) -> None:
        self.id = new_node_id()

    def session_id(self, random_part: str) -> str:
        return f"{self.id}{random_part}"


class LocalNodes(_Node):
    """One process (no Redis): there is no other node to reach."""

    async def announce(self, address: str) -> None:
        pass

    async def address(self, node_id: str) -> str | None:
        return None

    async def close(self) -> None:
        pass


class RedisNodes(_Node):
    """Nodes announced in Redis: `<prefix>node:<id>` holds the address, with a lease."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        super().__init__()
        self._redis = redis
        self._prefix = prefix
        self._renewing: asyncio.Task[None] | None = None
        self._known: dict[str, tuple[float, str | None]] = {}

    def _key(self, node_id: str) -> str:
        return f"{self._prefix}node:{node_id}"

    async def announce(self, address: str) -> None:
        await self._redis.set(self._key(self.id), address, px=int(LEASE_SECONDS * 1000))
        self._renewing = asyncio.create_task(self._renew(address), name="announce-node")

    async def _renew(self, address: str) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                await self._redis.set(self._key(self.id), address, px=int(LEASE_SECONDS * 1000))
            except Exception:
                log.warning("could not renew this node's address in Redis; trying again", exc_info=True)

    async def address(self, node_id: str) -> str | None:
        now = time.monotonic()
        known = self._known.get(node_id)
        if known is not None and now - known[0] < REMEMBER_SECONDS:
            return known[1]
        raw = await self._redis.get(self._key(node_id))
        address = raw.decode() if isinstance(raw, bytes) else raw
        if len(self._known) > 1000:  # ids of nodes long gone, from old session ids
            self._known.clear()
        self._known[node_id] = (now, address)
        return address

    async def close(self) -> None:
        if self._renewing is None:
            return
        await tasks.stop(self._renewing)
        # Gone at once rather than when the lease runs out: its sessions end with it.
        with contextlib.suppress(Exception):
            await self._redis.delete(self._key(self.id))
