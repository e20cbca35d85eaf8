"""WebRTC networking follows the settings: no STUN unasked, only the configured addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aioice.ice

from shopcast.live.network import offered_candidates
from shopcast.web.app import create_app, webrtc_network
from tests.conftest import make_settings

OFFER = "\r\n".join(
    [
        "v=0",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "a=candidate:2 1 udp 2122260223 192.168.1.20 50001 typ host",
        "a=candidate:3 1 udp 2122260223 4f3c2a1b-9d8e.local 50002 typ host",
        "a=candidate:4 1 udp 1686052607 203.0.113.9 50003 typ srflx raddr 192.168.1.20 rport 50001",
        "a=end-of-candidates",
    ]
)


def test_no_ice_server_means_an_empty_list_never_the_public_default(tmp_path: Path) -> None:
    configuration = webrtc_network(make_settings(tmp_path)).configuration()
    # None would make aiortc use stun.l.google.com; an empty list uses nothing.
    assert configuration.iceServers == []


# Opaque placeholders: these are only passed through to the configuration, never contacted.
def test_configured_ice_servers_are_passed_on(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, ice_servers=[{"urls": ["example-relay-server"], "username": "u", "credential": "p"}]
    )
    (server,) = webrtc_network(settings).configuration().iceServers
    assert (server.urls, server.username, server.credential) == (["example-relay-server"], "u", "p")


def test_only_the_configured_addresses_are_gathered(tmp_path: Path) -> None:
    original = aioice.ice.get_host_addresses
    try:
        webrtc_network(make_settings(tmp_path, webrtc_hosts="127.0.0.1,::1")).install()
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
    finally:
        aioice.ice.get_host_addresses = original
        webrtc_network(make_settings(tmp_path)).install()


def test_candidates_outside_the_peer_networks_are_dropped(tmp_path: Path) -> None:
    network = webrtc_network(make_settings(tmp_path, webrtc_peer_networks="127.0.0.0/8"))
    assert offered_candidates(network.filter_remote_candidates(OFFER)) == ["127.0.0.1"]
    everyone = webrtc_network(make_settings(tmp_path, webrtc_peer_networks="0.0.0.0/0"))
    # Host names are never looked up (mDNS would query the local network).
    assert offered_candidates(everyone.filter_remote_candidates(OFFER)) == ["127.0.0.1", "192.168.1.20", "203.0.113.9"]
    assert "a=end-of-candidates" in network.filter_remote_candidates(OFFER)


async def test_browsers_get_the_configured_ice_servers_and_nothing_else(aiohttp_client: Any, tmp_path: Path) -> None:
    default = await aiohttp_client(create_app(make_settings(tmp_path)))
    assert await (await default.get("/api/v1/public/webrtc")).json() == {"ice_servers": []}
    servers = [
        {"urls": ["example-reflexive-server"]},
        {"urls": ["example-relay-server"], "username": "u", "credential": "p"},
    ]
    configured = await aiohttp_client(create_app(make_settings(tmp_path / "other", ice_servers=servers)))
    body = await (await configured.get("/api/v1/public/webrtc")).json()
    assert body == {
        "ice_servers": [
            {"urls": ["example-reflexive-server"], "username": None, "credential": None},
            {"urls": ["example-relay-server"], "username": "u", "credential": "p"},
        ]
    }
