"""Where webhooks may go: an https:// address (http:// only with SHOPCAST_WEBHOOKS_ALLOW_HTTP) of a
public host, never one inside this machine's or its networks' reach (loopback, private, link-local,
carrier-grade NAT, unique local, IPv4-mapped and other non-public ranges) unless
SHOPCAST_WEBHOOKS_ALLOW_PRIVATE allows them (tests, `shopcast demo`); never multicast or unspecified.

A brand could otherwise make Shopcast call its own internal services (server-side request forgery).
The address is checked when the endpoint is saved (a host name is looked up and each of its addresses
checked), and again at every delivery: the connector looks the name up through `GuardedResolver`,
refuses the whole name if any address it gets is refused, and connects only to the addresses it
checked; the socket it opens checks its own address once more (`guarded_socket`), so a name that
changes its answer between the check and the connection (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from shopcast.core.errors import Phrase

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOKUP_SECONDS = 5.0
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
# Numbers that are an IPv4 address to the system but not in its dotted form ("2130706433", "127.1",
# "0x7f.1"): refused rather than guessed at.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+))*\.?$", re.IGNORECASE)


class UnsafeUrl(ValueError):
    """A webhook address Shopcast refuses; `reason` says why to the manager. `lasting`: the address
    itself is refused, not an answer of the DNS that may change."""

    def __init__(self, key: str, /, *, lasting: bool = True, **params: Any) -> None:
        self.reason = Phrase(key, **params)
        super().__init__(str(self.reason))
        self.lasting = lasting


class RefusedAddress(OSError):
    """A connection refused before it was made: the host's address is not one webhooks may reach."""

    def __init__(self, host: str, address: str, why: Phrase) -> None:
        if host == address:
            self.reason = Phrase("errors.webhook.address", address=address, why=why)
        else:
            self.reason = Phrase("errors.webhook.name", host=host, address=address, why=why)
        super().__init__(str(self.reason))


def address_refusal(address: IPAddress, *, allow_private: bool) -> Phrase | None:
    """What the address is that a webhook may not go to; None when it may."""
    if address.is_unspecified:
        return Phrase("errors.webhook.why_unspecified")
    if address.is_multicast:
        return Phrase("errors.webhook.why_multicast")
    if allow_private:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return Phrase("errors.webhook.why_ipv4_mapped")
        if address.sixtofour is not None and address_refusal(address.sixtofour, allow_private=False):
            return Phrase("errors.webhook.why_6to4")
        if address in _UNIQUE_LOCAL:
            return Phrase("errors.webhook.why_unique_local")
    if address.is_loopback:
        return Phrase("errors.webhook.why_loopback")
    if address.is_link_local:
        return Phrase("errors.webhook.why_link_local")
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return Phrase("errors.webhook.why_shared")
    if address.is_private:
        return Phrase("errors.webhook.why_private")
    if not address.is_global or address.is_reserved:
        return Phrase("errors.webhook.why_not_public")
    return None


@dataclass(frozen=True)
class Target:
    """A webhook address as checked: the host to connect to, and its IP address if it is one."""

    url: URL
    host: str
    port: int
    address: IPAddress | None


class GuardedResolver(AbstractResolver):
    """Looks names up with `inner` and refuses a name any of whose addresses webhooks may not reach."""

    def __init__(self, inner: AbstractResolver, *, allow_private: bool) -> None:
        self.inner = inner
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        for result in found:
            address = ipaddress.ip_address(result["host"].partition("%")[0])
            if why := address_refusal(address, allow_private=self.allow_private):
                raise RefusedAddress(host, str(address), why)
        return found

    async def close(self) -> None:
        await self.inner.close()


def guarded_socket(allow_private: bool) -> Any:
    """aiohttp's socket factory, refusing to open a socket toward an address webhooks may not reach."""

    def open_socket(addr_info: Any) -> socket.socket:
        family, kind, proto, _, sockaddr = addr_info
        address = str(sockaddr[0]).partition("%")[0]
        if why := address_refusal(ipaddress.ip_address(address), allow_private=allow_private):
            raise RefusedAddress(address, address, why)
        return socket.socket(family=family, type=kind, proto=proto)

    return open_socket


class EndpointRules:
    """The settings' rules for webhook addresses, and the resolver host names are looked up with
    (the system's by default; tests give one of their own)."""

    def __init__(self, *, allow_http: bool, allow_private: bool, resolver: AbstractResolver | None = None) -> None:
        self.allow_http = allow_http
        self.allow_private = allow_private
        self._resolver = resolver

    def check(self, url: str) -> Target:
        """The address parsed, or UnsafeUrl: its scheme, host and, for an IP address, the address itself."""
        schemes = ("https", "http") if self.allow_http else ("https",)
        try:
            parsed = URL(url.strip())
            host = parsed.raw_host
            port = parsed.port
        except (ValueError, TypeError):
            raise UnsafeUrl("errors.webhook.not_web_address") from None
        if not parsed.scheme:
            raise UnsafeUrl("errors.webhook.no_scheme")
        if parsed.scheme not in ("https", "http"):
            raise UnsafeUrl("errors.webhook.scheme", scheme=parsed.scheme)
        if parsed.scheme not in schemes:
            raise UnsafeUrl("errors.webhook.https")
        if not host:
            raise UnsafeUrl("errors.webhook.no_host")
        if parsed.user is not None or parsed.password is not None:
            raise UnsafeUrl("errors.webhook.credentials")
        if port is None or not 0 < port < 65536:
            raise UnsafeUrl("errors.webhook.port")
        address = _ip(host)
        if address is not None:
            if why := address_refusal(address, allow_private=self.allow_private):
                raise UnsafeUrl("errors.webhook.address", address=str(address), why=why)
        elif _NUMERIC_HOST.match(host):
            raise UnsafeUrl("errors.webhook.short_ip", host=host)
        return Target(parsed, host, port, address)

    async def check_all(self, url: str) -> Target:
        """`check`, and a host name looked up, each of its addresses checked (when an endpoint is saved)."""
        target = self.check(url)
        if target.address is not None:
            return target
        resolver = GuardedResolver(self.resolver(), allow_private=self.allow_private)
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):
                await resolver.resolve(target.host, target.port, family=socket.AF_UNSPEC)
        except RefusedAddress as exc:
            raise UnsafeUrl(exc.reason.key, lasting=False, **exc.reason.params) from None
        except (OSError, TimeoutError):
            raise UnsafeUrl("errors.webhook.no_address_found", lasting=False, host=target.host) from None
        return target

    def resolver(self) -> AbstractResolver:
        """The resolver names are looked up with (made in the running event loop)."""
        return self._resolver if self._resolver is not None else ThreadedResolver()

    def connector(self) -> aiohttp.TCPConnector:
        """A connector that reaches only addresses these rules allow, looking names up each time."""
        return aiohttp.TCPConnector(
            resolver=GuardedResolver(self.resolver(), allow_private=self.allow_private),
            use_dns_cache=False,
            socket_factory=guarded_socket(self.allow_private),
        )


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None
