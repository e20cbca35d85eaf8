"""The host publishes over WHIP and viewers watch over WHEP, through the real app, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from aiortc import RTCSessionDescription

from shopcast.core.security import Role
from shopcast.live.network import offered_candidates
from shopcast.web.context import RESOURCES
from tests.factories import Factory
from tests.live.broadcasting import SDP, go_live, publish, status_of, weekly_show
from tests.live.webrtc_peers import Viewer, eventually, peer, publisher_offer
from tests.problems import refused


@pytest.fixture
async def on_air_soon(factory: Factory) -> dict[str, Any]:
    cast = await weekly_show(factory)
    episode = cast.episodes[0]
    return {"manager": cast.manager, "host": cast.host, "episode": episode, "id": episode["id"]}


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
    await refused(await client.delete(watched.headers["Location"]), 404, "no such viewing session")
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
    host_pc, _ = await go_live(client, on_air_soon["host"], episode_id)
    broadcasts = client.app[RESOURCES].broadcasts
    status_path = f"/api/v1/episodes/{episode_id}/broadcast"
    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    await viewer.accept(await watched.text())
    await eventually(lambda: viewer.pc.connectionState == "connected")  # counted once connected
    await eventually(lambda: broadcasts.stats(uuid.UUID(episode_id)).viewers == 1)
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
    host_pc, _ = await go_live(client, on_air_soon["host"], episode_id)
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
    host_pc, _ = await go_live(client, on_air_soon["host"], episode_id)
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


def _lines(sdp: str) -> list[str]:
    return sdp.splitlines()


def _sdp(lines: list[str]) -> str:
    return "".join(f"{line}\r\n" for line in lines)


def without(*prefixes: str):
    return lambda sdp: _sdp([line for line in _lines(sdp) if not line.startswith(prefixes)])


def first_line(prefix: str, becomes: str):
    """The first line starting with `prefix` replaced by `becomes`."""

    def change(sdp: str) -> str:
        lines = _lines(sdp)
        index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
        return _sdp([*lines[:index], becomes, *lines[index + 1 :]])

    return change


def every(old: str, new: str):
    return lambda sdp: sdp.replace(old, new)


def regex(pattern: str, new: str):
    return lambda sdp: re.sub(pattern, new, sdp, flags=re.M)


def appended(*extra: str):
    return lambda sdp: sdp + _sdp(list(extra))


# What an outside tester's offers did, and what any client must be told instead of a 500.
UNUSABLE_OFFERS = [
    ("a broken m= line", first_line("m=video", "m=video nine UDP/TLS/RTP/SAVPF 97"), "not a valid m= line"),
    ("an m= line without formats", first_line("m=video", "m=video 9 UDP/TLS/RTP/SAVPF"), "not a valid m= line"),
    ("a bare c=IN line", first_line("c=IN", "c=IN"), "not a valid c= line"),
    ("an fmtp of no codec", appended("a=fmtp:55 apt=97"), "'a=fmtp:55 apt=97' is malformed"),
    ("no fingerprint", without("a=fingerprint"), "a=fingerprint"),
    ("only sha-1 fingerprints", regex(r"^a=fingerprint:sha-\d+", "a=fingerprint:sha-1"), "sha-256"),
    ("a garbled fingerprint", every("a=fingerprint:sha-256 ", "a=fingerprint:sha-256 ZZ"), "a=fingerprint"),
    ("no ice-ufrag", without("a=ice-ufrag"), "a=ice-ufrag"),
    ("no ice-pwd", without("a=ice-pwd"), "a=ice-pwd"),
    ("no setup role", without("a=setup"), "a=setup"),
    ("an unknown setup role", every("a=setup:actpass", "a=setup:holdconn"), "a=setup must be"),
    ("no mid", without("a=mid"), "a=mid"),
    ("no rtcp-mux", without("a=rtcp-mux"), "a=rtcp-mux"),
    ("a BUNDLE of unknown sections", every("a=group:BUNDLE 0 1", "a=group:BUNDLE 7 1"), "BUNDLE"),
    (
        "a data channel",
        appended("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:2", "a=sctp-port:5000"),
        "audio and video",
    ),
]


async def test_unusable_offers_get_a_400_with_the_reason_on_whip_and_whep(client, factory: Factory) -> None:
    cast = await weekly_show(factory)
    host, (on_air, scheduled) = cast.host, cast.ids[:2]
    host_pc, _ = await go_live(client, host, on_air)
    broadcasts = client.app[RESOURCES].broadcasts
    whip_offer = await publisher_offer(peer())
    whep_offer = await Viewer(peer()).offer()
    whip, whep = f"/live/{scheduled}/whip", f"/live/{on_air}/whep"
    cases = [
        *((what, whip, change(whip_offer), reason) for what, change, reason in UNUSABLE_OFFERS),
        *((what, whep, change(whep_offer), reason) for what, change, reason in UNUSABLE_OFFERS),
        ("a host who only receives", whip, every("a=sendrecv", "a=recvonly")(whip_offer), "does not send"),
        ("a viewer who only sends", whep, every("a=recvonly", "a=sendonly")(whep_offer), "does not receive"),
        ("no direction", whep, every("a=recvonly\r\n", "")(whep_offer), "direction"),
    ]
    for what, path, offer, reason in cases:
        # WHEP needs no sign-in: a stranger's offer is read as carefully as the host's.
        headers = {**SDP, **host.headers} if path == whip else SDP
        response = await client.post(path, data=offer, headers=headers)
        assert response.status == 400, (what, path, response.status, await response.text())
        assert response.content_type == "application/problem+json"
        assert reason in (await response.json())["detail"], (what, path, await response.text())
    assert await status_of(client, scheduled) == "scheduled"
    assert not broadcasts.carries(uuid.UUID(scheduled))
    stats = broadcasts.stats(uuid.UUID(on_air))
    assert stats is not None and stats.viewers == 0 and stats.publisher_connected
    assert broadcasts.open_connections() == 1  # the host's
    await host_pc.close()
