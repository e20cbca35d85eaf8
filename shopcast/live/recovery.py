"""After a crash: shows still marked live whose host never came back are ended, their replay finished."""

from __future__ import annotations

import asyncio
import logging

from shopcast.core.bus import Bus
from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.live import service
from shopcast.live.broadcasts import Broadcasts

log = logging.getLogger(__name__)


async def end_shows_left_on_air(
    database: Database, broadcasts: Broadcasts, *, bus: Bus, clock: Clock, grace_seconds: float
) -> list[str]:
    """Give hosts the grace period to reconnect, then end what is still live without a host.

    Only shows already live when the process started count (one that goes live afterwards is
    not left over), and only for a single app process (the embedded setup): with several,
    another process may be carrying the show.
    """
    async with database.transaction() as session:
        left_on_air = await service.live_episode_ids(session)
    if not left_on_air:
        return []
    await asyncio.sleep(grace_seconds)
    ended = []
    for episode_id in left_on_air:
        if broadcasts.carries(episode_id):
            continue
        async with database.transaction() as session:
            await service.end_abandoned(session, episode_id=episode_id, now=clock.now(), bus=bus)
        await broadcasts.end(episode_id)
        ended.append(str(episode_id))
    if ended:
        log.info("ended %d show(s) left on air by a restart: %s", len(ended), ", ".join(ended))
    return ended
