"""The host publishes over WHIP and viewers watch over WHEP, through the real app, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiortc import RTCSessionDescription

from shopcast.core.security import Role
from shopcast.live.network import offered_candidates
from shopcast.web.context import RESOURCES
from tests.factories import Factory, Staff
from tests.live.webrtc_peers import Viewer, eventually, peer, publisher_offer

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def on_air_soon(factory: Factory) -> dict[str, Any]:
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    host = await factory.staff("acme", Role.HOST)
    show = await factory.show("acme", manager)
    episode = (await factory.episodes(show["id"], manager))[0]
    return {"manager": manager, "host": host, "episode": episode, "id": episode["id"]}


async def publish(client, host: Staff, episode_id: str):
    pc = peer()
    response = await client.post(
        f"/live/{episode_id}/whip", data=await publisher_offer(pc), headers={**SDP, **host.headers}
    )
    return pc, response


async def status_of(client, episode_id: str) -> str:
    return (await (await client.get(f"/api/v1/public/episodes/{episode_id}")).json())["status"]


async def test_host_goes_live_and_a_viewer_watches_then_the_show_ends(client, on_air_soon) -> None:
    episode_id = on_air_soon["id"]
    bus = client.app[RESOURCES].bus
    async with bus.subscribe(f"episode:{episode_id}") as room:
        host_pc, response = await publish(client, on_air_soon["host"], episode_id)
        assert response.status == 201, await response.text()
        assert response.content_type == "application/sdp"
        whip_session = response.headers["Location"]
        assert whip_session.startswith(f"/live/{episode_id}/whip/")
        answer = await response.text()
        assert set(offered_candidates(answer)) == {"127.0.0.1"}
        await host_pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        async with asyncio.timeout(10):
            assert (await anext(room)).event == "episode:live"
    assert await status_of(client, episode_id) == "live"
    broadcasts = client.app[RESOURCES].broadcasts
    await eventually(lambda: broadcasts.stats(uuid.UUID(episode_id)).frames_in["video"] > 3)

    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    assert watched.status == 201, await watched.text()
    viewer_answer = await watched.text()
    assert set(offered_candidates(viewer_answer)) == {"127.0.0.1"}
    await viewer.accept(viewer_answer)
    frames = await viewer.frames("video", 5)
    assert (frames[-1].width, frames[-1].height) == (640, 480)
    assert (await client.delete(watched.headers["Location"])).status == 200
    assert (await client.delete(watched.headers["Location"])).status == 404
    await viewer.pc.close()

    ended = await client.delete(whip_session, headers=on_air_soon["host"].headers)
    assert ended.status == 200
    assert await status_of(client, episode_id) == "ended"
    late = await client.post(f"/live/{episode_id}/whep", data=await Viewer(peer()).offer(), headers=SDP)
    assert late.status == 409 and "has ended" in (await late.json())["detail"]
    again = await publish(client, on_air_soon["host"], episode_id)
    assert again[1].status == 409 and "ended" in (await again[1].json())["detail"]
    await host_pc.close()


async def test_end_show_closes_every_connection(client, on_air_soon) -> None:
    episode_id = on_air_soon["id"]
    host_pc, response = await publish(client, on_air_soon["host"], episode_id)
    await host_pc.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    broadcasts = client.app[RESOURCES].broadcasts
    status_path = f"/api/v1/episodes/{episode_id}/broadcast"
    await eventually(lambda: host_pc.connectionState == "connected")
    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    await viewer.accept(await watched.text())
    studio = await (await client.get(status_path, headers=on_air_soon["host"].headers)).json()
    assert studio == {"on_air": True, "publisher_connected": True, "viewers": 1}
    response = await client.post(f"/api/v1/episodes/{episode_id}/end", headers=on_air_soon["host"].headers)
    assert response.status == 200
    await eventually(lambda: broadcasts.open_connections() == 0)
    studio = await (await client.get(status_path, headers=on_air_soon["host"].headers)).json()
    assert studio == {"on_air": False, "publisher_connected": False, "viewers": 0}
    await viewer.pc.close()
    await host_pc.close()


async def test_a_host_who_vanishes_ends_the_episode(client, on_air_soon) -> None:
    episode_id = on_air_soon["id"]
    host_pc, response = await publish(client, on_air_soon["host"], episode_id)
    await host_pc.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    await eventually(lambda: host_pc.connectionState == "connected")
    await host_pc.close()  # grace period in tests: 1 s
    async with asyncio.timeout(30):
        while await status_of(client, episode_id) != "ended":  # noqa: ASYNC110 - the API is polled
            await asyncio.sleep(0.2)


async def test_who_may_publish(client, factory: Factory, on_air_soon) -> None:
    episode_id = on_air_soon["id"]
    await factory.brand("globex")
    outsider = await factory.staff("globex", Role.MANAGER)
    moderator = await factory.staff("acme", Role.MODERATOR)
    offer = await publisher_offer(peer())
    cases = [
        ({}, 401),
        (await factory.guest(), 403),
        (outsider.headers, 403),
        (moderator.headers, 403),
    ]
    for headers, status in cases:
        response = await client.post(f"/live/{episode_id}/whip", data=offer, headers={**SDP, **headers})
        assert response.status == status, await response.text()
    assert await status_of(client, episode_id) == "scheduled"


async def test_bad_requests_get_a_reason(client, factory: Factory, on_air_soon) -> None:
    episode_id, host = on_air_soon["id"], on_air_soon["host"]
    offer = await publisher_offer(peer())
    headers = {**SDP, **host.headers}
    cases = [
        (f"/live/{episode_id}/whip", "v=0\r\nnonsense", headers, 400, "cannot"),
        (f"/live/{episode_id}/whip", "hello", headers, 400, "not an SDP offer"),
        (f"/live/{episode_id}/whip", "v=0\r\n" + "a=x\r\n" * 20000, headers, 400, "larger than"),
        (f"/live/{episode_id}/whip", offer, {**host.headers, "Content-Type": "text/plain"}, 415, "application/sdp"),
        (
            f"/live/{episode_id}/whip",
            offer.replace("VP8/90000", "XX/90000").replace("H264/90000", "XX/90000"),
            headers,
            415,
            "accepts video VP8 or H264",
        ),
        ("/live/6f1c3a8e-0000-4000-8000-000000000000/whip", offer, headers, 404, "no episode"),
        ("/live/not-an-id/whip", offer, headers, 404, "no such episode"),
        (f"/live/{episode_id}/whep", await Viewer(peer()).offer(), SDP, 409, "has not started yet"),
    ]
    for path, body, request_headers, status, reason in cases:
        response = await client.post(path, data=body, headers=request_headers)
        assert response.status == status, (path, status, await response.text())
        assert response.content_type == "application/problem+json"
        assert reason in (await response.json())["detail"], await response.text()
    assert await status_of(client, episode_id) == "scheduled"
    cancelled = await client.post(f"/api/v1/episodes/{episode_id}/cancel", headers=on_air_soon["manager"].headers)
    assert cancelled.status == 200
    response = await client.post(f"/live/{episode_id}/whip", data=offer, headers=headers)
    assert response.status == 409 and "cancelled" in (await response.json())["detail"]


async def test_a_second_publisher_is_refused_while_the_host_is_connected(client, on_air_soon) -> None:
    episode_id = on_air_soon["id"]
    host_pc, response = await publish(client, on_air_soon["host"], episode_id)
    await host_pc.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    await eventually(lambda: host_pc.connectionState == "connected")
    other_pc, second = await publish(client, on_air_soon["manager"], episode_id)
    assert second.status == 409 and "already publishing" in (await second.json())["detail"]
    await other_pc.close()
    # The host themself, back after a network change while the old connection still looks alive:
    # they take over at once, and the episode stays live.
    again_pc, again = await publish(client, on_air_soon["host"], episode_id)
    assert again.status == 201, await again.text()
    await again_pc.setRemoteDescription(RTCSessionDescription(await again.text(), "answer"))
    await eventually(lambda: again_pc.connectionState == "connected")
    assert await status_of(client, episode_id) == "live"
    await again_pc.close()
    await host_pc.close()
