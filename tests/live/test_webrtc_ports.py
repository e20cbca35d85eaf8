"""SHOPCAST_WEBRTC_PORTS: every candidate Shopcast offers is on 127.0.0.1 at a port of the range, so a
firewall or a container publishes exactly those; when every port is taken a viewer is told so."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from shopcast.live.network import WebRtcNetwork, offered_endpoints
from shopcast.live.ports import PortRange
from shopcast.web.context import RESOURCES
from tests.conftest import make_settings
from tests.live import webrtc_peers
from tests.live.broadcasting import SDP, go_live, weekly_show
from tests.live.webrtc_peers import Viewer, peer
from tests.problems import refused

# Above Linux's ephemeral ports (32768-60999): nothing the system hands out lands in it meanwhile.
PORTS = PortRange(first := random.randrange(61000, 65000, 10), first + 9)


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    return make_settings(tmp_path, **backend, webrtc_ports=f"{PORTS.first}-{PORTS.last}")


@pytest.fixture(autouse=True)
def peers_in_the_range(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test's own peers install their network as they are made (process-wide, as the app's):
    the same range, so they do not take it away from the app."""
    loopback = webrtc_peers.LOOPBACK
    monkeypatch.setattr(
        webrtc_peers,
        "LOOPBACK",
        WebRtcNetwork(ice_servers=[], hosts=loopback.hosts, peer_networks=loopback.peer_networks, ports=PORTS),
    )
    yield
    loopback.install()


async def test_every_candidate_offered_is_on_loopback_within_the_ports(client: Any, factory: Any) -> None:
    cast = await weekly_show(factory)
    episode_id = cast.ids[0]
    host_pc, _ = await go_live(client, cast.host, episode_id)
    viewer = Viewer(peer())
    watched = await client.post(f"/live/{episode_id}/whep", data=await viewer.offer(), headers=SDP)
    assert watched.status == 201, await watched.text()
    answer = await watched.text()
    endpoints = offered_endpoints(answer)
    assert endpoints and all(address == "127.0.0.1" and port in PORTS for address, port in endpoints), endpoints
    await viewer.accept(answer)
    assert len(await viewer.frames("video", 3)) == 3
    await viewer.pc.close()
    await host_pc.close()


def take_free_ports(ports: PortRange) -> list[socket.socket]:
    """Bind every port of the range still free, as other sessions would hold them."""
    taken = []
    for port in range(ports.first, ports.last + 1):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        taken.append(sock)
    return taken


async def test_a_viewer_is_told_at_once_when_every_port_is_taken(client: Any, factory: Any) -> None:
    cast = await weekly_show(factory)
    episode_id = cast.ids[0]
    host_pc, _ = await go_live(client, cast.host, episode_id)
    viewer = Viewer(peer())
    offer = await viewer.offer()  # the viewer's own port, taken before the range is full
    taken = take_free_ports(PORTS)
    try:
        full = await client.post(f"/live/{episode_id}/whep", data=offer, headers=SDP)
        body = await refused(full, 503, "no WebRTC port is free on this server just now")
        assert full.headers["Retry-After"] == "10" and body["retry_after"] == 10
        broadcasts = client.app[RESOURCES].broadcasts
        assert broadcasts.open_connections() == 1  # the host's: the refused session holds nothing
        taken.pop().close()
        watched = await client.post(f"/live/{episode_id}/whep", data=offer, headers=SDP)
        assert watched.status == 201, await watched.text()
        await viewer.accept(await watched.text())
        assert len(await viewer.frames("video", 3)) == 3
    finally:
        for sock in taken:
            sock.close()
        await viewer.pc.close()
        await host_pc.close()
