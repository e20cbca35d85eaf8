"""The replay's viewers (docs/api.md, "Replay viewers"): a player's beats while the recording plays,
counted in batches (chat/replay_watch.py), and the product cards it shows over the video.

Both need the viewer's token, the identity their cart has: a replay viewer who buys is one of the
replay's viewers, and the report's conversion (viewers → carts → orders) joins up."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from shopcast.catalog import figures
from shopcast.chat import replay_watch
from shopcast.chat.schemas import ReplayBeatIn, ReplayBeatOut, ReplayCardViewIn
from shopcast.core.errors import Conflict, Phrase, ShopcastError
from shopcast.core.group_commit import GroupCommit
from shopcast.core.ratelimit import enforce
from shopcast.core.security import signed_in
from shopcast.live import service as live
from shopcast.live.hls import PLAYLIST
from shopcast.live.hls_clock import replay_seconds
from shopcast.web.api import Api, Call
from shopcast.web.context import RESOURCES, Resources

api = Api()
CARD_VIEWS_PER_MINUTE = 60  # per viewer: a replay shows a card at each pin, a few a minute at most
RECORDINGS_KEPT = 1000  # finished recordings whose length this process remembers


class ReplayAudience:
    """This process's counting of the replays' beats: the beats of an episode that arrive together are
    counted in one transaction, and each finished recording's length is read once."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._lengths: dict[uuid.UUID, float] = {}
        self.beats: GroupCommit[uuid.UUID, replay_watch.Beat, ReplayBeatOut] = GroupCommit("replay beats", self._count)

    async def recording_seconds(self, episode_id: uuid.UUID) -> float:
        """The finished recording's length (409 when the episode has none to play)."""
        seconds = self._lengths.get(episode_id)
        if seconds is not None:
            return seconds
        folder = self._resources.broadcasts.hls_folder(episode_id)
        seconds = None if folder is None else await asyncio.to_thread(replay_seconds, folder / PLAYLIST)
        if not seconds:
            raise Conflict("errors.replay.no_recording")
        if len(self._lengths) >= RECORDINGS_KEPT:
            self._lengths.pop(next(iter(self._lengths)))
        self._lengths[episode_id] = seconds
        return seconds

    async def _count(
        self, episode_id: uuid.UUID, beats: Sequence[replay_watch.Beat]
    ) -> list[ReplayBeatOut | ShopcastError]:
        res = self._resources
        async with res.database.transaction() as session:
            await live.check_replayable(session, episode_id=episode_id)
            return await replay_watch.count_beats(
                session,
                episode_id=episode_id,
                beats=beats,
                now=res.clock.now(),
                beat_seconds=res.settings.replay_beat_seconds,
                recording_seconds=await self.recording_seconds(episode_id),
            )


REPLAY_AUDIENCE = web.AppKey("replay_audience", ReplayAudience)


def install(app: web.Application) -> None:
    async def counting(app: web.Application) -> AsyncIterator[None]:
        app[REPLAY_AUDIENCE] = audience = ReplayAudience(app[RESOURCES])
        yield
        await audience.beats.close()

    app.cleanup_ctx.append(counting)  # after the resources': the database is open while beats are written


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/replay/beats",
    summary="A replay viewer's player is playing: the viewer's replay watch time goes on",
    tag="replay",
    response=ReplayBeatOut,
    access="signed-in",
    errors=(404, 409, 429),
)
async def beat(call: Call, episode_id: uuid.UUID, body: ReplayBeatIn) -> ReplayBeatOut:
    viewer = signed_in(call.actor)
    every = call.resources.settings.replay_beat_seconds
    # Beats sooner than the interval are refused by the count; this keeps a client that insists off the database.
    most = 2 * math.ceil(60 / every) + 2
    key = f"replay beats:{viewer.kind}:{viewer.id}"
    await enforce(call.resources.limiter, key, limit=most, window_seconds=60, what=Phrase("errors.limit.replay_beats"))
    # Counted in the batch's own transaction: the request's holds no connection meanwhile.
    beat = replay_watch.Beat(viewer.kind, viewer.id, body.resumed)
    return await call.request.app[REPLAY_AUDIENCE].beats.submit(episode_id, (viewer.kind, viewer.id), beat)


@api.route(
    "POST",
    "/api/v1/episodes/{episode_id}/replay/card-views",
    summary="The replay showed a pin's product card over the video: a card view of the replay",
    tag="replay",
    status=204,
    access="signed-in",
    errors=(404, 409, 429),
)
async def card_viewed(call: Call, episode_id: uuid.UUID, body: ReplayCardViewIn) -> None:
    viewer = signed_in(call.actor)
    key = f"replay card views:{viewer.kind}:{viewer.id}"
    what = Phrase("errors.limit.replay_card_views")
    await enforce(call.resources.limiter, key, limit=CARD_VIEWS_PER_MINUTE, window_seconds=60, what=what)
    episode = await live.check_replayable(call.session, episode_id=episode_id)
    await figures.record_replay_card_view(
        call.session,
        call.resources.facts,
        episode_id=episode_id,
        pin_id=body.pin_id,
        viewer_kind=viewer.kind,
        viewer_id=viewer.id,
        staff=viewer.roles.get(episode.brand_id) is not None,
        now=call.now(),
    )
