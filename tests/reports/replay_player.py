"""The replay's recording and its players, as a watch page's player beats while it plays."""

from __future__ import annotations

import uuid
from typing import Any

from shopcast.web.context import RESOURCES
from tests.catalog.conftest import Shop
from tests.conftest import SettableClock

BEAT = 15  # SHOPCAST_REPLAY_BEAT_SECONDS's default


def record_replay(shop: Shop, seconds: int, episode_id: str | None = None) -> None:
    """The episode's finished recording, `seconds` long, where the packager leaves it (2 s segments)."""
    folder = shop.client.app[RESOURCES].broadcasts.hls_folder(uuid.UUID(episode_id or shop.episode_id))
    folder.mkdir(parents=True, exist_ok=True)
    segments = "".join(f"#EXTINF:2.000000,\nseg{n:05d}.ts\n" for n in range(seconds // 2))
    (folder / "index.m3u8").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n{segments}#EXT-X-ENDLIST\n")


async def beat(shop: Shop, headers: dict[str, str], *, resumed: bool = False, episode_id: str | None = None) -> Any:
    """One beat of a replay player, as it is answered."""
    return await shop.client.post(
        f"/api/v1/episodes/{episode_id or shop.episode_id}/replay/beats", json={"resumed": resumed}, headers=headers
    )


async def play_replay(shop: Shop, clock: SettableClock, headers: dict[str, str], seconds: int) -> dict[str, Any]:
    """Play the replay from now for `seconds` (a multiple of BEAT): a beat as it starts, then one every BEAT
    seconds; the last beat's answer."""
    response = await beat(shop, headers, resumed=True)
    for _ in range(seconds // BEAT):
        assert response.status == 200, await response.text()
        clock.advance(seconds=BEAT)
        response = await beat(shop, headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def see_card_in_replay(shop: Shop, headers: dict[str, str], pin_id: str) -> Any:
    return await shop.client.post(
        f"/api/v1/episodes/{shop.episode_id}/replay/card-views", json={"pin_id": pin_id}, headers=headers
    )
