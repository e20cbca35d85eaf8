"""WebRTC networking as settings say: which ICE servers, which addresses and ports to gather, which
peers to accept.

Left alone, aiortc asks a public STUN server when no ICE servers are configured and aioice
gathers every interface's address but 127.0.0.1, each on a port the system picks; none of it
may happen unasked.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

from shopcast.live.ports import PortRange, bind_within

_CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ .*$")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class IceServer:
    urls: list[str]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class WebRtcNetwork:
    ice_servers: Sequence[IceServer]
    hosts: Sequence[str]
    peer_networks: Sequence[IPNetwork]
    ports: PortRange | None = None

    def configuration(self) -> RTCConfiguration:
        # Always a list, even empty: None would make aiortc fall back to a public STUN server.
        servers = [RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in self.ice_servers]
        return RTCConfiguration(iceServers=servers)

    def allows_peer(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False  # host names (mDNS .local) would need a lookup on the network
        return any(ip in network for network in self.peer_networks)

    def filter_remote_candidates(self, sdp: str) -> str:
        """The SDP without candidates at addresses outside the allowed peer networks."""
        lines = []
        for line in sdp.splitlines():
            match = _CANDIDATE.match(line)
            if match is not None and not self.allows_peer(match.group(1)):
                continue
            lines.append(line)
        return "\r\n".join(lines) + "\r\n"

    def install(self) -> None:
        """Make aioice gather exactly the configured addresses, on the configured ports (process-wide:
        aioice has no per-call option)."""
        hosts = list(self.hosts)

        def configured_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            return [h for h in hosts if (":" in h and use_ipv6) or (":" not in h and use_ipv4)]

        aioice.ice.get_host_addresses = configured_addresses
        bind_within(self.ports)


def offered_endpoints(sdp: str) -> list[tuple[str, int]]:
    """The address and port of every candidate line in an SDP."""
    return [(m.group(1), int(m.group(2))) for m in map(_CANDIDATE.match, sdp.splitlines()) if m is not None]


def offered_candidates(sdp: str) -> list[str]:
    """The addresses of every candidate line in an SDP."""
    return [address for address, _ in offered_endpoints(sdp)]
