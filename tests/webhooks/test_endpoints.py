"""The brand's webhook endpoints through the API: a manager adds, reads, changes and deletes them, the
secret is shown only when made or rotated, a bad address or event is refused with its reason, and
nobody outside the brand's managers sees an endpoint or its deliveries."""

from __future__ import annotations

from typing import Any

import pytest

from tests.catalog.conftest import Shop
from tests.problems import refused
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver


async def test_a_manager_adds_reads_changes_and_deletes_an_endpoint(hooks: Hooks, receiver: Receiver) -> None:
    made = await hooks.add(receiver.url(), ["order.paid", "order.paid", "episode.live"], description=" Our shop ")
    assert made["events"] == ["order.paid", "episode.live"] and made["description"] == "Our shop"
    assert made["enabled"] is True and made["disabled_reason"] is None and made["previous_secret_until"] is None
    assert made["url"] == receiver.url()

    listed = await hooks.client.get("/api/v1/brands/acme/webhooks", headers=hooks.manager.headers)
    [shown] = await listed.json()
    assert shown == {k: v for k, v in made.items() if k != "secret"}

    changed = await hooks.call(
        "PATCH", made["id"], json={"url": receiver.url("other"), "events": ["giveaway.drawn"], "enabled": False}
    )
    assert (changed["url"], changed["events"], changed["enabled"]) == (receiver.url("other"), ["giveaway.drawn"], False)
    assert changed["description"] == "Our shop"  # what was not sent stays
    assert "secret" not in changed
    await hooks.call("DELETE", made["id"], status=204)
    await hooks.call("GET", made["id"], status=404)
    assert await (await hooks.client.get("/api/v1/brands/acme/webhooks", headers=hooks.manager.headers)).json() == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://shop.example.com/hooks", "url: ftp: is not a web address: use https://"),
        ("https:///hooks", "url: the address has no host"),
        ("shop.example.com/hooks", "url: start the address with https://"),
        ("https://user:pass@shop.example.com/", "url: put no user name or password in the address"),
        ("http://0.0.0.0:8080/", "url: 0.0.0.0 is the unspecified address"),
        ("http://[ff02::1]/", "url: ff02::1 is a multicast address"),
        ("http://224.0.0.1/", "url: 224.0.0.1 is a multicast address"),
        ("http://2130706433/", "url: write the IP address 2130706433 in full"),
    ],
)
async def test_an_address_webhooks_cannot_use_is_refused_with_the_reason(
    shop: Shop, hooks: Hooks, url: str, reason: str
) -> None:
    # Even with private addresses allowed (as here), these never are.
    body = {"url": url, "events": ["order.paid"]}
    response = await hooks.client.post("/api/v1/brands/acme/webhooks", json=body, headers=hooks.manager.headers)
    problem = await refused(response, 422, reason)
    assert problem["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://shop.example.com/", "events": []}, "events"),
        ({"url": "https://shop.example.com/", "events": ["order.shipped"]}, "events.0"),
        ({"url": "https://shop.example.com/", "events": ["webhook.test"]}, "events.0"),
        ({"events": ["order.paid"]}, "url"),
        ({"url": "https://shop.example.com/" + "a" * 2000, "events": ["order.paid"]}, "url"),
    ],
)
async def test_events_and_fields_are_checked(hooks: Hooks, body: dict[str, Any], field: str) -> None:
    response = await hooks.client.post("/api/v1/brands/acme/webhooks", json=body, headers=hooks.manager.headers)
    problem = await refused(response, 422, field)
    assert problem["errors"][0]["field"] == field


async def test_a_change_is_checked_like_a_new_endpoint(hooks: Hooks, receiver: Receiver) -> None:
    made = await hooks.add(receiver.url())
    for body, reason in [
        ({"url": "gopher://shop.example.com/"}, "url: gopher: is not a web address"),
        ({"events": []}, "events"),
        ({"url": None}, "url cannot be empty"),
    ]:
        response = await hooks.client.patch(f"/api/v1/webhooks/{made['id']}", json=body, headers=hooks.manager.headers)
        await refused(response, 422, reason)
    assert (await hooks.call("GET", made["id"]))["url"] == receiver.url()


async def test_another_brand_s_endpoints_and_deliveries_are_out_of_sight(
    shop: Shop, hooks: Hooks, receiver: Receiver
) -> None:
    made = await hooks.add(receiver.url())
    delivery = await hooks.test(made)
    rival = await shop.rival()
    host = shop.room.host
    paths = [
        ("GET", f"/api/v1/webhooks/{made['id']}"),
        ("PATCH", f"/api/v1/webhooks/{made['id']}"),
        ("DELETE", f"/api/v1/webhooks/{made['id']}"),
        ("POST", f"/api/v1/webhooks/{made['id']}/secret"),
        ("POST", f"/api/v1/webhooks/{made['id']}/test"),
        ("GET", f"/api/v1/webhooks/{made['id']}/deliveries"),
        ("GET", f"/api/v1/webhooks/{made['id']}/deliveries/{delivery['id']}"),
        ("POST", f"/api/v1/webhooks/{made['id']}/deliveries/{delivery['id']}/replay"),
    ]
    for method, path in paths:
        kwargs: dict[str, Any] = {"json": {"enabled": False}} if method == "PATCH" else {}
        # Another brand's manager is not told it exists; the brand's host may not use it; nobody signed out.
        await refused(await shop.client.request(method, path, headers=rival.manager.headers, **kwargs), 404, "no ")
        await refused(await shop.client.request(method, path, headers=host.headers, **kwargs), 403, "manager")
        await refused(await shop.client.request(method, path, **kwargs), 401, "")
    guest = await shop.guest()
    await refused(await shop.client.get(f"/api/v1/webhooks/{made['id']}", headers=guest), 404, "no ")
    await refused(await shop.client.get("/api/v1/brands/acme/webhooks", headers=rival.manager.headers), 403, "")
    body = {"url": receiver.url(), "events": ["order.paid"]}
    await refused(await shop.client.post("/api/v1/brands/acme/webhooks", json=body, headers=host.headers), 403, "")
    await refused(await shop.client.post("/api/v1/brands/acme/webhooks", json=body), 401, "")

    # The rival's own endpoint and an endpoint's deliveries asked through another endpoint: not found.
    theirs = await Hooks(shop.client, rival.manager, rival.slug).add(receiver.url("rival"))
    await hooks.call("GET", f"{theirs['id']}/deliveries", status=404)
    await Hooks(shop.client, rival.manager, rival.slug).call(
        "GET", f"{theirs['id']}/deliveries/{delivery['id']}", status=404
    )
    assert (await hooks.call("GET", made["id"]))["enabled"] is True  # nothing was changed


async def test_a_refused_address_is_told_in_the_request_s_language(hooks: Hooks) -> None:
    body = {"url": "ftp://shop.example.com/hooks", "events": ["order.paid"]}
    headers = {**hooks.manager.headers, "Accept-Language": "fr-FR,fr;q=0.9"}
    response = await hooks.client.post("/api/v1/brands/acme/webhooks", json=body, headers=headers)
    problem = await refused(response, 422, "ftp: n\N{RIGHT SINGLE QUOTATION MARK}est pas une adresse web")
    assert problem["errors"][0]["reason"].endswith("utilisez https://")
