"""Sessions that never connect, or fail, give back everything they held, and tell nobody a lie."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCSessionDescription

from shopcast.web.app import create_app
from shopcast.web.context import RESOURCES
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory
from tests.live.broadcasting import (
    SDP,
    Holdings,
    broadcast_of,
    go_live,
    publish,
    released,
    status_of,
    weekly_show,
)
from tests.live.webrtc_peers import Viewer, eventually, peer, publisher_offer

OFF_AIR = {"on_air": False, "publisher_connected": False, "viewers": 0}
CONNECT_SECONDS = 3


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock) -> Any:
    """The app giving a new WebRTC session a few seconds to connect."""
    settings = make_settings(tmp_path, webrtc_connect_seconds=CONNECT_SECONDS, **backend)
    return await aiohttp_client(create_app(settings, clock=clock))


@pytest.fixture
async def studio(factory: Factory) -> dict[str, Any]:
    cast = await weekly_show(factory)
    return {"manager": cast.manager, "host": cast.host, "episodes": cast.ids}


def packagers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("hls-")]


def wrong_fingerprints(sdp: str) -> str:
    """Well-formed fingerprints of another certificate: the DTLS handshake fails on them."""
    return re.sub(
        r"^(a=fingerprint:\S+ )(\S\S)", lambda m: m.group(1) + ("00" if m.group(2) != "00" else "11"), sdp, flags=re.M
    )


async def test_a_host_whose_connection_never_completes_leaves_the_episode_scheduled(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    baseline = Holdings.now(client)
    pc, response = await publish(client, host, episode_id)
    assert response.status == 201, await response.text()
    await pc.close()  # the answer never reaches the host's encoder: nothing will connect
    # Until the host's connection is up, the episode is not live and nobody is told it is.
    assert await status_of(client, episode_id) == "scheduled"
    assert await broadcast_of(client, host, episode_id) == OFF_AIR
    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    assert watched.status == 409 and "has not started yet" in (await watched.json())["detail"]
    await viewer.pc.close()

    await released(client, baseline)  # after the connect deadline
    assert await status_of(client, episode_id) == "scheduled"
    assert await broadcast_of(client, host, episode_id) == OFF_AIR
    assert not packagers()
    assert not (client.app[RESOURCES].settings.data_dir / "hls" / episode_id).exists()
    # The host tries again, and it works: nothing was left to say someone is publishing.
    host_pc, _ = await go_live(client, host, episode_id)
    assert await broadcast_of(client, host, episode_id) == {"on_air": True, "publisher_connected": True, "viewers": 0}
    await host_pc.close()


async def test_a_host_whose_dtls_handshake_fails_is_released_at_once(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    baseline = Holdings.now(client)
    pc = peer()
    offer = wrong_fingerprints(await publisher_offer(pc))
    response = await client.post(f"/live/{episode_id}/whip", data=offer, headers={**SDP, **host.headers})
    assert response.status == 201, await response.text()
    await pc.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    broadcasts = client.app[RESOURCES].broadcasts
    await eventually(lambda: not broadcasts.carries(uuid.UUID(episode_id)), within=CONNECT_SECONDS * 3)
    assert await status_of(client, episode_id) == "scheduled"
    assert await broadcast_of(client, host, episode_id) == OFF_AIR
    await pc.close()
    await released(client, baseline)


async def test_an_offer_refused_while_answering_leaves_nothing_behind(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    baseline = Holdings.now(client)
    pc = peer()
    # H264 in a profile aiortc cannot take: the offer reads well, aiortc refuses it while answering.
    offer = (await publisher_offer(pc, codec="video/H264")).replace("profile-level-id=42", "profile-level-id=64")
    response = await client.post(f"/live/{episode_id}/whip", data=offer, headers={**SDP, **host.headers})
    assert response.status == 415, await response.text()
    assert "VP8 or H264" in (await response.json())["detail"]
    assert await broadcast_of(client, host, episode_id) == OFF_AIR
    assert not client.app[RESOURCES].broadcasts.carries(uuid.UUID(episode_id))
    assert not packagers()
    await pc.close()
    await released(client, baseline)


async def test_a_host_hanging_up_before_connecting_leaves_the_episode_scheduled(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    baseline = Holdings.now(client)
    pc, response = await publish(client, host, episode_id)
    assert response.status == 201
    hung_up = await client.delete(response.headers["Location"], headers=host.headers)
    assert hung_up.status == 200, await hung_up.text()
    await pc.close()
    assert await status_of(client, episode_id) == "scheduled"
    assert await broadcast_of(client, host, episode_id) == OFF_AIR
    await released(client, baseline, within=CONNECT_SECONDS)  # at once, not after the deadline


async def test_a_viewer_who_never_connects_is_not_counted_and_is_released(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    host_pc, _ = await go_live(client, host, episode_id)
    baseline = Holdings.now(client)
    for _ in range(3):
        viewer = Viewer(peer())
        watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
        assert watched.status == 201, await watched.text()
        await viewer.pc.close()  # gone before connecting
    assert (await broadcast_of(client, host, episode_id))["viewers"] == 0
    await released(client, baseline)
    assert await broadcast_of(client, host, episode_id) == {"on_air": True, "publisher_connected": True, "viewers": 0}
    await host_pc.close()


async def test_a_viewer_whose_dtls_handshake_fails_is_released(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    host_pc, _ = await go_live(client, host, episode_id)
    baseline = Holdings.now(client)
    viewer = Viewer(peer())
    offer = wrong_fingerprints(await viewer.offer())
    watched = await client.post(f"/live/{episode_id}/whep", data=offer, headers=SDP)
    assert watched.status == 201, await watched.text()
    await viewer.accept(await watched.text())
    broadcasts = client.app[RESOURCES].broadcasts
    await eventually(lambda: broadcasts.open_connections() == 1, within=CONNECT_SECONDS * 3)  # the host's
    assert (await broadcast_of(client, host, episode_id))["viewers"] == 0
    await viewer.pc.close()
    await released(client, baseline)
    await host_pc.close()


async def test_a_hosts_reconnection_that_never_connects_ends_the_show_after_the_grace_period(client, studio) -> None:
    episode_id, host = studio["episodes"][0], studio["host"]
    host_pc, _ = await go_live(client, host, episode_id)
    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    await viewer.accept(await watched.text())
    await viewer.frames("video", 1)
    again, response = await publish(client, host, episode_id)  # the host's encoder restarts...
    assert response.status == 201
    await again.close()  # ...and dies before connecting
    await host_pc.close()
    assert await status_of(client, episode_id) == "live"  # the viewers wait for the host meanwhile
    await eventually(lambda: client.app[RESOURCES].broadcasts.open_connections() == 0, within=CONNECT_SECONDS * 5)
    assert await status_of(client, episode_id) == "ended"
    await viewer.pc.close()
