"""Schemathesis against the running app: every answer is one the OpenAPI document declares.

What an outside tester runs (`st run …/api/openapi.json`), kept small enough for the suite: as the
brand's manager, the coverage phase (each bound, each wrong type, each missing header or token,
TRACE) and a few generated requests per operation; as nobody, the generated requests alone. Both
are deterministic (a fixed seed, derandomized) and reach only 127.0.0.1. It fails on any 5xx,
any status, content type, header or body the document does not declare for that operation, any
schema-invalid request the app accepts, and any secured route answering without a token.
`positive_data_acceptance` is left out: the document cannot spell every rule a valid request
follows (an IANA zone name, an RRULE, a deliverable email), so some schema-valid requests are
rightly a 422.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestClient
from schemathesis.engine import events, from_schema

from tests.catalog.conftest import COMMERCE, DRESS
from tests.factories import Factory, Staff
from tests.fuzzing import examples

# Each operation gets this many generated requests per run, besides the coverage phase's.
EXAMPLES = examples(3)  # per operation
SEED = 14

# The video routes take an SDP offer as text.
schemathesis.serializer.alias("application/sdp", "text/plain")


@dataclass
class Seeded:
    manager: Staff
    ids: dict[str, list[str]]


@pytest.fixture
async def seeded(client: TestClient, factory: Factory) -> Seeded:
    """Brand "acme" with a weekly show and its episodes, a product, its commerce settings, an order, a
    draft poll and a giveaway."""
    await factory.brand("acme")
    manager = await factory.staff("acme", "manager")
    show = await factory.show("acme", manager)
    episodes = await factory.episodes(show["id"], manager)
    headers = manager.headers
    product = await (await client.post("/api/v1/brands/acme/products", json=DRESS, headers=headers)).json()
    assert (await client.put("/api/v1/brands/acme/commerce", json=COMMERCE, headers=headers)).status == 200
    buyer = await factory.guest()
    added = await client.post(
        "/api/v1/brands/acme/cart/items", json={"variant_id": product["variants"][0]["id"]}, headers=buyer
    )
    assert added.status == 201, await added.text()
    order = await client.post(
        "/api/v1/brands/acme/orders",
        json={"email": "lea@example.com", "name": "Léa", "shipping": {"method": "pickup", "store_id": "paris-1"}},
        headers={**buyer, "Idempotency-Key": "seeded-order"},
    )
    assert order.status == 201, await order.text()
    poll = await client.post(
        f"/api/v1/episodes/{episodes[0]['id']}/polls",
        json={"question": "Which one?", "options": [{"label": "a"}, {"label": "b"}]},
        headers=headers,
    )
    assert poll.status == 201, await poll.text()
    giveaway = await client.post(
        f"/api/v1/episodes/{episodes[0]['id']}/giveaways",
        json={"prize": {"title": "A scarf", "value": {"amount": 8900, "currency": "EUR"}}},
        headers=headers,
    )
    assert giveaway.status == 201, await giveaway.text()
    ids = {
        "brand_slug": ["acme"],
        "show_id": [show["id"]],
        "episode_id": [e["id"] for e in episodes[:3]],
        "product_id": [product["id"]],
        "order_id": [(await order.json())["id"]],
        "poll_id": [(await poll.json())["id"]],
        "giveaway_id": [(await giveaway.json())["id"]],
    }
    return Seeded(manager, ids)


def _config(base_url: str, seeded: Seeded, headers: dict[str, str]) -> schemathesis.Config:
    # Coverage sends every wrong type of every field: once, with a token, is enough (and most of the time).
    coverage = {"enabled": bool(headers), "unexpected-methods": ["TRACE"]}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "base-url": base_url,
            "headers": headers,
            "request-timeout": 30,
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "no-shrink": True, "database": "none"},
            "phases": {"examples": {"enabled": False}, "coverage": coverage, "stateful": {"enabled": False}},
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                # Stateful and multi-user checks: this run has one caller and no links between operations.
                "use_after_free": {"enabled": False},
                "ensure_resource_availability": {"enabled": False},
                "object_level_authorization": {"enabled": False},
            },
            # Known ids most of the time, so requests get past the 404 to the route's own rules.
            "dictionaries": {name: {"values": values} for name, values in seeded.ids.items()},
            "parameters": {name: {"dictionary": name, "probability": 0.75} for name in seeded.ids},
            "suppress-health-check": ["too_slow", "data_too_large"],
        }
    )


def _fuzz(document: dict[str, Any], base_url: str, seeded: Seeded, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Run schemathesis; how many requests it sent, and what it found wrong."""
    schema = schemathesis.openapi.from_dict(document, config=_config(base_url, seeded, headers))
    sent, found = 0, []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            sent += len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        curl = check.failure_info.code_sample
                        found.append(
                            f"{event.recorder.label}: {check.name}: {failure.title}\n{failure.message}\n{curl}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"schemathesis could not run {getattr(event, 'label', '')}: {event.info}")
    return sent, sorted(set(found))


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzer's requests go to 127.0.0.1 and nowhere else, not even through a proxy."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    send = requests.adapters.HTTPAdapter.send

    def guarded(self: Any, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(request.url).hostname
        assert host == "127.0.0.1", f"the fuzzer tried to reach {host}"
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", guarded)


@pytest.mark.usefixtures("loopback_only")
async def test_every_answer_is_one_the_document_declares(client: TestClient, seeded: Seeded) -> None:
    assert client.host == "127.0.0.1"
    base_url = str(client.make_url("")).rstrip("/")
    document = await (await client.get("/api/openapi.json")).json()
    problems = []
    for who, headers in (("the manager", seeded.manager.headers), ("nobody", {})):
        # The app serves on this loop; schemathesis's blocking client runs beside it.
        sent, found = await asyncio.to_thread(_fuzz, document, base_url, seeded, headers)
        assert sent > 2 * len(document["paths"]), f"as {who}, only {sent} requests were sent"
        problems += [f"as {who}, {f}" for f in found]
    assert not problems, "\n\n".join(problems)
