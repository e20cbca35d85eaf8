"""Where webhooks may go, with the production defaults (https only, public addresses only): an address
inside this machine's or its networks' reach is refused when the endpoint is saved, and again when a
delivery connects, so a name that turns to such an address later (DNS rebinding) reaches nothing.

Nothing here talks to anything but 127.0.0.1: other addresses are literal ones refused before any
connection, or the answers of a stub resolver standing for the DNS."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from shopcast.cli import demo_settings
from shopcast.core.db import Database
from shopcast.core.settings import Settings
from shopcast.web.app import create_app
from shopcast.webhooks.addresses import EndpointRules, RefusedAddress, address_refusal, guarded_socket
from shopcast.webhooks.models import WebhookEndpoint
from tests.catalog.conftest import Shop
from tests.conftest import SettableClock, make_settings
from tests.problems import refused
from tests.webhooks.conftest import WEBHOOKS, Hooks, eventually

PUBLIC = "93.184.216.34"  # only ever an answer of the stub: never connected to


class StubDns(AbstractResolver):
    """The DNS as the test says it answers; a name it does not know has no address."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in self.names[host]
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
def dns() -> StubDns:
    return StubDns()


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    production = {**WEBHOOKS, "webhooks_allow_http": False, "webhooks_allow_private": False}
    return make_settings(tmp_path, **backend, **production)


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, clock: SettableClock, dns: StubDns
) -> AsyncIterator[TestClient]:
    """The real app, its webhook endpoints' names looked up in the stub."""
    test_client = await aiohttp_client(create_app(settings, clock=clock, resolver=dns))
    yield test_client
    await test_client.close()


async def add(hooks: Hooks, url: str) -> Any:
    body = {"url": url, "events": ["order.paid"]}
    return await hooks.client.post("/api/v1/brands/acme/webhooks", json=body, headers=hooks.manager.headers)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://shop.example.test/hooks", "url: use an https:// address: deliveries carry buyers' details"),
        ("https://127.0.0.1:8443/hooks", "url: 127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/", "url: 10.1.2.3 is a private address"),
        ("https://172.16.5.4/", "url: 172.16.5.4 is a private address"),
        ("https://192.168.1.20/", "url: 192.168.1.20 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "url: 169.254.169.254 is a link-local address"),
        ("https://100.64.0.1/", "url: 100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("https://0.0.0.0/", "url: 0.0.0.0 is the unspecified address"),
        ("https://239.255.255.250/", "url: 239.255.255.250 is a multicast address"),
        ("https://[::1]/", "url: ::1 is a loopback address"),
        ("https://[::]/", "url: :: is the unspecified address"),
        ("https://[fe80::1]/", "url: fe80::1 is a link-local address"),
        ("https://[fd12:3456::1]/", "url: fd12:3456::1 is a unique local IPv6 address"),
        ("https://[::ffff:127.0.0.1]/", "url: ::ffff:7f00:1 is an IPv4-mapped IPv6 address"),
        ("https://[2002:a00:1::1]/", "url: 2002:a00:1::1 is a 6to4 address of a non-public IPv4 address"),
        ("https://127.1/", "url: write the IP address 127.1 in full (four numbers with dots)"),
        ("https://intranet.example.test/", "url: intranet.example.test resolves to 10.0.0.7, a private address"),
        ("https://mixed.example.test/", "url: mixed.example.test resolves to 127.0.0.1, a loopback address"),
        ("https://nowhere.example.test/", "url: no address found for nowhere.example.test"),
    ],
)
async def test_an_address_inside_the_network_is_refused_when_saved(
    shop: Shop, hooks: Hooks, dns: StubDns, url: str, reason: str
) -> None:
    dns.names = {"intranet.example.test": ["10.0.0.7"], "mixed.example.test": [PUBLIC, "127.0.0.1"]}
    problem = await refused(await add(hooks, url), 422, reason)
    assert problem["errors"] == [{"field": "url", "reason": reason.removeprefix("url: ")}]


async def test_a_name_that_turns_to_a_local_address_after_it_was_saved_reaches_nothing(
    shop: Shop, hooks: Hooks, dns: StubDns
) -> None:
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    listener = await asyncio.start_server(count, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        dns.names["shop.example.test"] = [PUBLIC]
        saved = await add(hooks, f"https://shop.example.test:{port}/hooks")
        assert saved.status == 201, await saved.text()
        endpoint = await saved.json()
        # The name now points at this machine, where something listens: Shopcast must not go there.
        dns.names["shop.example.test"] = ["127.0.0.1"]
        await hooks.test(endpoint)

        async def failed() -> dict[str, Any] | None:
            found = await hooks.deliveries(endpoint)
            return found[0] if found and found[0]["state"] == "failed" else None

        delivery = await eventually(failed)
        assert delivery["last_error"] == "refused: shop.example.test resolves to 127.0.0.1, a loopback address"
        assert delivery["tries"][0]["status_code"] is None
        assert dns.asked.count("shop.example.test") == 2  # when saved, and when connecting
        assert connections == 0
    finally:
        listener.close()
        await listener.wait_closed()


async def test_an_address_the_settings_refuse_now_is_given_up_at_once(
    shop: Shop, hooks: Hooks, dns: StubDns, database: Database
) -> None:
    dns.names["shop.example.test"] = [PUBLIC]
    endpoint = await (await add(hooks, "https://shop.example.test/hooks")).json()
    # Saved while SHOPCAST_WEBHOOKS_ALLOW_HTTP was on, say; it is off now.
    async with database.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(endpoint["id"]))
            .values(url="http://10.0.0.9/")
        )
    await hooks.test(endpoint)

    async def given_up() -> dict[str, Any] | None:
        found = await hooks.deliveries(endpoint)
        return found[0] if found and found[0]["state"] == "dead" else None

    delivery = await eventually(given_up)
    assert delivery["attempts"] == 1
    assert delivery["last_error"] == "refused: use an https:// address: deliveries carry buyers' details"


@pytest.mark.parametrize(
    ("address", "refused_without", "refused_with"),
    [
        (PUBLIC, None, None),
        ("2606:4700::1111", None, None),
        ("127.0.0.1", "a loopback address", None),
        ("10.0.0.1", "a private address", None),
        ("169.254.1.1", "a link-local address", None),
        ("100.127.255.254", "a shared (carrier-grade NAT) address", None),
        ("192.0.2.1", "a private address", None),  # documentation range
        ("240.0.0.1", "a private address", None),
        ("255.255.255.255", "a private address", None),
        ("fc00::1", "a unique local IPv6 address", None),
        ("::ffff:8.8.8.8", "an IPv4-mapped IPv6 address", None),
        ("64:ff9b::a00:1", "not a public address", None),  # NAT64 of 10.0.0.1
        ("2001:db8::1", "a private address", None),
        ("0.0.0.0", "the unspecified address", "the unspecified address"),
        ("224.0.0.1", "a multicast address", "a multicast address"),
        ("ff0e::1", "a multicast address", "a multicast address"),
    ],
)
def test_which_addresses_webhooks_may_reach(
    address: str, refused_without: str | None, refused_with: str | None
) -> None:
    ip = ipaddress.ip_address(address)
    for allow_private, expected in ((False, refused_without), (True, refused_with)):
        why = address_refusal(ip, allow_private=allow_private)
        assert (None if why is None else str(why)) == expected


def test_the_connector_s_socket_refuses_a_refused_address_before_opening() -> None:
    open_socket = guarded_socket(allow_private=False)
    with pytest.raises(RefusedAddress, match=r"10\.0\.0\.1 is a private address"):
        open_socket((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 443)))
    with pytest.raises(RefusedAddress, match="fe80::1 is a link-local address"):
        open_socket((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%lo", 443, 0, 1)))
    allowed = guarded_socket(allow_private=True)((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443)))
    allowed.close()


async def test_a_literal_address_is_refused_by_the_connector_itself() -> None:
    # Past the checks of the sender: the connector alone still never opens a connection there.
    rules = EndpointRules(allow_http=True, allow_private=False, resolver=StubDns())
    async with aiohttp.ClientSession(connector=rules.connector()) as http:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await http.post("http://10.0.0.1:9/hooks", data=b"{}")
    assert isinstance(caught.value.os_error, RefusedAddress)
    assert str(caught.value.os_error.reason) == "10.0.0.1 is a private address"


def test_shopcast_demo_lets_webhooks_reach_this_machine_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    demo = demo_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert demo.webhooks_allow_http and demo.webhooks_allow_private
    production = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not production.webhooks_allow_http and not production.webhooks_allow_private
    monkeypatch.setenv("SHOPCAST_WEBHOOKS_ALLOW_PRIVATE", "false")
    told = demo_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert told.webhooks_allow_http and not told.webhooks_allow_private
