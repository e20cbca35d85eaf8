"""Watch sessions left open by an app process that died (a crash, SIGKILL, a machine lost).

A live-room watch session is closed by the process holding its connection, when the connection
leaves. A process that dies cannot: its viewers, back on another process or gone, would count as
watching until the show's end in the report, and as present for a giveaway's draw. So each process
notes in the database that it is alive every BEAT_SECONDS, and closes the open sessions of any
process not heard from for LOST_SECONDS, as of when that one was last heard from (so within
BEAT_SECONDS of its end). With one process and no Redis the same holds: it finds the sessions its
previous run left open.

A process only stalled that long (a machine swapping) has its sessions closed too; its connections'
leaves then write their real end over it, and its next beat notes it again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.chat.models import WatchingNode, WatchSession
from shopcast.core.db import upsert

BEAT_SECONDS = 5.0
LOST_SECONDS = 30.0  # six beats missed: not one slow beat on a loaded database


async def beat(session: AsyncSession, *, node: str, now: datetime) -> int:
    """Note that process `node` is alive; close the open sessions of processes lost since. How many
    sessions were closed."""
    alive = upsert(session, WatchingNode.__table__).values(id=node, seen_at=now)
    await session.execute(alive.on_conflict_do_update(index_elements=["id"], set_={"seen_at": now}))
    cutoff = now - timedelta(seconds=LOST_SECONDS)
    lost = list(
        await session.execute(select(WatchingNode.id, WatchingNode.seen_at).where(WatchingNode.seen_at < cutoff))
    )
    closed = 0
    for lost_node, seen_at in lost:
        end = case((WatchSession.joined_at > seen_at, WatchSession.joined_at), else_=seen_at)
        result = await session.execute(
            update(WatchSession)
            .where(WatchSession.node == lost_node, WatchSession.left_at.is_(None))
            .values(left_at=end)
            .execution_options(synchronize_session=False)
        )
        closed += result.rowcount
        # Unless it spoke again meanwhile (another process may be closing its sessions too).
        await session.execute(delete(WatchingNode).where(WatchingNode.id == lost_node, WatchingNode.seen_at < cutoff))
    return closed
