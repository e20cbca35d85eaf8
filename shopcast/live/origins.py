"""Which app process carries each show's video (its origin), so that any process can serve its viewers.

The process the host publishes to claims the show in Redis with a lease, renews it while it carries
the show (the host connected, or awaited during the grace period) and gives it back when the show
is over or the process stops. Another process that gets a WHEP viewer reads the lease to know whom
to pull the stream from. A lease that lapses means its process died: every process sweeps the shows
that had an origin, and one that has had none for the grace period is ended, by exactly one process
(a lock in Redis; the end itself is a conditional update in the database as well).

The HLS recording has a lease of its own: when the host moves to another process, the new origin
starts writing the playlist only once the old one has closed its muxer (or died), so two muxers
never write one playlist.

With the in-process bus there is one process: it is the origin of whatever it carries, and no other
process is ever asked for a stream.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

ENDING_LOCK_SECONDS = 60  # long enough for one ending; a process that died meanwhile leaves it to the next sweep


@dataclass(frozen=True)
class Origin:
    """The app process that holds a show's host connection, as the others reach it."""

    replica: str
    url: str
    publisher_connected: bool
    host: str  # who publishes there (their user id), "" if unknown


class Origins(Protocol):
    replica: str

    async def claim(self, episode_id: uuid.UUID, *, publisher_connected: bool, host: uuid.UUID | None) -> None:
        """This process carries the show from now on (`host` published here), whoever did before."""
        ...

    async def renew(self, episode_id: uuid.UUID, *, publisher_connected: bool, host: uuid.UUID | None) -> bool:
        """Keep the show; False when another process has claimed it since (the host moved)."""
        ...

    async def release(self, episode_id: uuid.UUID) -> None:
        """This process no longer carries the show (if it still held it)."""
        ...

    async def find(self, episode_id: uuid.UUID) -> Origin | None:
        """The process carrying the show now, if any."""
        ...

    async def may_end(self, episode_id: uuid.UUID) -> bool:
        """Whether this process, the show's origin, is the one to end it now that its host did not come back."""
        ...

    async def abandoned(self, grace_seconds: float) -> list[uuid.UUID]:
        """Shows whose origin has been gone for the grace period, that this process must end (each once)."""
        ...

    async def forget(self, episode_id: uuid.UUID) -> None:
        """The show is over: it is no longer one to watch for."""
        ...

    async def hold_recording(self, episode_id: uuid.UUID) -> bool:
        """Take or keep the show's HLS recording; False while another process still writes it."""
        ...

    async def release_recording(self, episode_id: uuid.UUID) -> None: ...


class LocalOrigins:
    """One process (the in-process bus): the origin of everything it carries, with nothing to share."""

    replica = "local"

    async def claim(self, episode_id: uuid.UUID, *, publisher_connected: bool, host: uuid.UUID | None) -> None:
        return None

    async def renew(self, episode_id: uuid.UUID, *, publisher_connected: bool, host: uuid.UUID | None) -> bool:
        return True

    async def release(self, episode_id: uuid.UUID) -> None:
        return None

    async def find(self, episode_id: uuid.UUID) -> Origin | None:
        return None  # no other process to pull from

    async def may_end(self, episode_id: uuid.UUID) -> bool:
        return True

    async def abandoned(self, grace_seconds: float) -> list[uuid.UUID]:
        return []  # shows left on air by a restart are ended at start-up (live/recovery.py)

    async def forget(self, episode_id: uuid.UUID) -> None:
        return None

    async def hold_recording(self, episode_id: uuid.UUID) -> bool:
        return True

    async def release_recording(self, episode_id: uuid.UUID) -> None:
        return None


# KEYS: lease, orphaned-since, the shows to sweep. ARGV: replica, url, connected, host, lease ms, episode.
_TAKE = """
redis.call('HSET', KEYS[1], 'replica', ARGV[1], 'url', ARGV[2], 'connected', ARGV[3], 'host', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('DEL', KEYS[2])
redis.call('SADD', KEYS[3], ARGV[6])
return 1
"""

# The newest publisher wins.
_CLAIM = "redis.call('DEL', KEYS[1])\n" + _TAKE

# As _CLAIM, unless another process claimed the show since. A lapsed lease (this process was too busy to
# renew it in time, or Redis was unreachable when it claimed the show) is taken back.
_RENEW = (
    """
local owner = redis.call('HGET', KEYS[1], 'replica')
if owner and owner ~= ARGV[1] then return 0 end
"""
    + _TAKE
)

# KEYS: lease. ARGV: replica.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'replica') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

# KEYS: lease, ending lock. ARGV: replica, lock ms. Only the process holding the show may end it.
_MAY_END = """
if redis.call('HGET', KEYS[1], 'replica') ~= ARGV[1] then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

# KEYS: lease, orphaned-since, ending lock. ARGV: grace ms, replica, lock ms. Redis's clock times the
# grace period, so the processes' clocks need not agree; the first process to see the lease gone
# starts it, and one process (the lock) ends the show.
_ORPHANED = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[2])
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local since = redis.call('GET', KEYS[2])
if not since then
  redis.call('SET', KEYS[2], now, 'PX', tonumber(ARGV[1]) + 3600000)
  return 0
end
if now - tonumber(since) < tonumber(ARGV[1]) then return 0 end
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
"""

# KEYS: recording. ARGV: replica, lease ms.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS: recording. ARGV: replica.
_LET_GO = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisOrigins:
    """The origins of every process, in Redis: one hash per show with a lease, and the set of shows to watch."""

    def __init__(self, redis: Redis, *, prefix: str, url: str, lease_seconds: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self._url = url
        self._lease_ms = round(lease_seconds * 1000)
        self.replica = uuid.uuid4().hex[:12]
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._may_end = redis.register_script(_MAY_END)
        self._orphaned = redis.register_script(_ORPHANED)
        self._hold = redis.register_script(_HOLD)
        self._let_go = redis.register_script(_LET_GO)

    def _key(self, episode_id: uuid.UUID, part: str = "") -> str:
        return f"{self._prefix}origin:{episode_id}{part}"

    @property
    def _shows(self) -> str:
        """The shows that have had an origin and are not over: the ones to sweep."""
        return f"{self._prefix}origin-shows"

    def _lease(self, episode_id: uuid.UUID, publisher_connected: bool, host: uuid.UUID | None) -> list[str | int]:
        """The arguments of _CLAIM and _RENEW."""
        host_id = "" if host is None else str(host)
        return [self.replica, self._url, int(publisher_connected), host_id, self._lease_ms, str(episode_id)]

    async def claim(self, episode_id: uuid.UUID, *, publisher_connected: bool, host: uuid.UUID | None) -> None:
        keys = [self._key(episode_id), self._key(episode_id, ":orphaned"), self._shows]
        await self._claim(keys=keys, args=self._lease(episode_id, publisher_connected, host))

    async def renew(self, episode_id: uuid.UUID, *, publisher_connected: bool, host: uuid.UUID | None) -> bool:
        keys = [self._key(episode_id), self._key(episode_id, ":orphaned"), self._shows]
        return bool(await self._renew(keys=keys, args=self._lease(episode_id, publisher_connected, host)))

    async def release(self, episode_id: uuid.UUID) -> None:
        await self._release(keys=[self._key(episode_id)], args=[self.replica])

    async def find(self, episode_id: uuid.UUID) -> Origin | None:
        fields = await self._redis.hgetall(self._key(episode_id))
        if not fields or b"replica" not in fields:
            return None
        return Origin(
            replica=fields[b"replica"].decode(),
            url=fields.get(b"url", b"").decode(),
            publisher_connected=fields.get(b"connected") == b"1",
            host=fields.get(b"host", b"").decode(),
        )

    async def may_end(self, episode_id: uuid.UUID) -> bool:
        keys = [self._key(episode_id), self._key(episode_id, ":ending")]
        return bool(await self._may_end(keys=keys, args=[self.replica, ENDING_LOCK_SECONDS * 1000]))

    async def abandoned(self, grace_seconds: float) -> list[uuid.UUID]:
        shows = [uuid.UUID(s.decode()) for s in await self._redis.smembers(self._shows)]
        args = [round(grace_seconds * 1000), self.replica, ENDING_LOCK_SECONDS * 1000]
        found = []
        for episode_id in shows:
            keys = [self._key(episode_id), self._key(episode_id, ":orphaned"), self._key(episode_id, ":ending")]
            if await self._orphaned(keys=keys, args=args):
                found.append(episode_id)
        return found

    async def forget(self, episode_id: uuid.UUID) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.srem(self._shows, str(episode_id))
            pipe.delete(self._key(episode_id, ":orphaned"))
            await pipe.execute()

    async def hold_recording(self, episode_id: uuid.UUID) -> bool:
        keys = [self._key(episode_id, ":recording")]
        return bool(await self._hold(keys=keys, args=[self.replica, self._lease_ms]))

    async def release_recording(self, episode_id: uuid.UUID) -> None:
        await self._let_go(keys=[self._key(episode_id, ":recording")], args=[self.replica])
