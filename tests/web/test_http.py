"""HTTP conventions every route shares: health, OpenAPI, problems, limits, headers (origins: test_origins.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from openapi_spec_validator import validate

from shopcast.web.app import create_app
from shopcast.web.context import SETTINGS
from shopcast.web.openapi import route_template
from tests.conftest import SettableClock, make_settings


async def test_health_reports_database_and_bus(client, settings) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["database"] == {
        "status": "up",
        "kind": "postgresql" if "postgresql" in settings.effective_database_url else "sqlite",
    }
    assert body["bus"] == {"status": "up", "kind": "redis" if settings.redis_url else "in-process"}


async def test_health_says_which_part_is_down(aiohttp_client: Any, tmp_path: Path) -> None:
    # Nothing listens on port 9 of 127.0.0.1: the database is down, the app still answers.
    settings = make_settings(tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nothing")
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "down" and body["bus"]["status"] == "up"


async def test_openapi_lists_every_route_with_its_schemas(client) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    validate(document)  # a real OpenAPI 3.1 document, usable by generators and API tools
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    served = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if (
            route.method in ("HEAD", "*")
            or path is None
            or not path.startswith(("/api", "/healthz", "/live", "/pictures"))
        ):
            continue
        served.add((route_template(path), route.method))
    assert served, "no API routes found"
    assert served == documented
    create = document["paths"]["/api/v1/brands/{brand_slug}/shows"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ShowCreate"}
    assert create["security"] == [{"bearer": []}]
    assert {"201", "401", "403", "404", "422"} <= set(create["responses"])
    assert "time_zone" in document["components"]["schemas"]["ShowCreate"]["properties"]
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for content in response.get("content", {}).values():
                    ref = content["schema"].get("$ref") or content["schema"].get("items", {}).get("$ref")
                    if ref:
                        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]


async def test_errors_are_problem_json_with_a_reason(client) -> None:
    cases = [
        (client.get("/api/v1/nothing-here"), 404, "no route GET /api/v1/nothing-here"),
        (client.delete("/api/v1/auth/login"), 405, "no route DELETE /api/v1/auth/login"),
        (
            client.post("/api/v1/auth/guest", data=b"{not json", headers={"Content-Type": "application/json"}),
            400,
            "not valid JSON",
        ),
        (
            client.post("/api/v1/auth/guest", data=b"nickname=x", headers={"Content-Type": "text/plain"}),
            415,
            "application/json",
        ),
        (client.post("/api/v1/auth/guest", json={"nickname": 5}), 422, "nickname: Input should be a valid string"),
        (client.post("/api/v1/auth/guest", json=["a"]), 422, "Input should be a valid dictionary"),
    ]
    for request, status, reason in cases:
        response = await request
        assert response.status == status, await response.text()
        assert response.content_type == "application/problem+json"
        body = await response.json()
        assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status
        assert reason in body["detail"], body


async def test_oversized_bodies_are_refused(client) -> None:
    huge = {"nickname": "x" * (client.app[SETTINGS].max_body_bytes + 10)}
    response = await client.post("/api/v1/auth/guest", json=huge)
    assert response.status == 413
    assert "larger than" in (await response.json())["detail"]


async def test_a_crash_is_a_500_problem_not_a_stack_trace(aiohttp_client: Any, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))

    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app.router.add_get("/api/v1/boom", boom)
    client = await aiohttp_client(app)
    response = await client.get("/api/v1/boom")
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text and "Traceback" not in text


async def test_pages_carry_security_headers(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path)))
    page = await client.get("/manage")
    assert page.status == 200 and page.content_type == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    home = await client.get("/", allow_redirects=False)
    assert home.status == 302 and home.headers["Location"] == "/manage"
    api = await client.get("/healthz")
    assert api.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_claim_page_is_served_for_a_giveaway_id_and_not_found_otherwise(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path)))
    page = await client.get("/claim/4b6f8c1e-8a55-4a1f-9a43-0d0b7f2f8e21")
    assert page.status == 200 and "Claim your prize" in await page.text()
    assert "/static/dist/claim.js" in await page.text()
    missing = await client.get("/claim/not-an-id")
    assert missing.status == 404 and "There is no such page" in await missing.text()


async def guest_from(client: Any, *forwarded_for: str) -> int:
    """A guest sign-in through the proxy, with these X-Forwarded-For lines; the status."""
    headers = CIMultiDict(("X-Forwarded-For", line) for line in forwarded_for)
    return (await client.post("/api/v1/auth/guest", json={"nickname": "Lea"}, headers=headers)).status


async def test_behind_a_trusted_proxy_the_address_it_appended_counts(
    aiohttp_client: Any, tmp_path: Path, clock: SettableClock
) -> None:
    settings = make_settings(tmp_path, trust_forwarded_headers=True, guest_max_per_window=2)
    client = await aiohttp_client(create_app(settings, clock=clock))
    # A client that sent no header: the proxy's line is its address alone.
    assert [await guest_from(client, "203.0.113.8") for _ in range(3)] == [201, 201, 429]
    # A client that invents a new chain each time is still counted by the proxy's entry, the last,
    # whether the proxy appends to the client's line or adds a line of its own.
    assert await guest_from(client, "10.0.0.1, 198.51.100.7") == 201
    assert await guest_from(client, "10.0.0.2", "198.51.100.7") == 201
    assert await guest_from(client, "198.51.100.7, 10.0.0.3", "198.51.100.7") == 429
    assert await guest_from(client, "198.51.100.9") == 201


async def test_behind_a_cdn_and_a_proxy_the_address_the_cdn_saw_counts(
    aiohttp_client: Any, tmp_path: Path, clock: SettableClock
) -> None:
    settings = make_settings(tmp_path, trust_forwarded_headers=True, trusted_proxy_hops=2, guest_max_per_window=2)
    client = await aiohttp_client(create_app(settings, clock=clock))
    # The client's claim, then what the CDN saw (the client), then what nginx saw (the CDN).
    chains = [f"10.0.0.{n}, 203.0.113.7, 192.0.2.{n}" for n in range(3)]
    assert [await guest_from(client, chain) for chain in chains] == [201, 201, 429]
    assert await guest_from(client, "203.0.113.8, 192.0.2.1") == 201
    # Fewer addresses than hops: the first one is the best there is.
    assert [await guest_from(client, "203.0.113.9") for _ in range(3)] == [201, 201, 429]
