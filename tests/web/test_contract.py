"""The OpenAPI document promises what the API does: every status, bound, header and format."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from shopcast.web.context import SETTINGS
from tests.factories import Factory

SOME_ID = str(uuid.uuid4())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]


def concrete(path: str) -> str:
    """The path with its parameters filled: a well-formed id that names nothing, a brand slug."""
    return re.sub(r"\{(\w+)\}", lambda m: SOME_ID if m.group(1).endswith("_id") else "acme", path)


@pytest.fixture
async def document(client) -> dict[str, Any]:
    return await (await client.get("/api/openapi.json")).json()


async def test_a_json_body_that_cannot_be_read_gets_a_documented_400_413_or_415(
    client, document: dict[str, Any], factory: Factory
) -> None:
    await factory.brand("acme")
    token = (await factory.guest())["Authorization"]
    json_routes = [
        (method, path, op)
        for method, path, op in operations(document)
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]
    assert len(json_routes) > 15
    too_large = b'{"x": "' + b"x" * client.app[SETTINGS].max_body_bytes + b'"}'
    for method, path, op in json_routes:
        headers = {"Authorization": token, "Idempotency-Key": "k1"}
        cases = [
            (b"{not json", "application/json", 400, "not valid JSON"),
            (b"title=x", "text/plain", 415, "send the body as application/json"),
            (too_large, "application/json", 413, "larger than"),
        ]
        for data, content_type, status, reason in cases:
            response = await client.request(
                method, concrete(path), data=data, headers={**headers, "Content-Type": content_type}
            )
            body = await response.json()
            assert response.status == status, (method, path, body)
            assert reason in body["detail"]
            assert str(status) in op["responses"], f"{method} {path} does not document {status}"


async def test_a_secured_route_without_a_token_is_a_401_whatever_else_is_wrong(
    client, document: dict[str, Any]
) -> None:
    secured = [(m, p, op) for m, p, op in operations(document) if op.get("security")]
    assert {("POST", "/live/{episode_id}/whip"), ("DELETE", "/live/{episode_id}/whip/{session}")} <= {
        (m, p) for m, p, _ in secured
    }
    for method, path, op in secured:
        # A bad query, a body of the wrong type, no Idempotency-Key: the missing token is told first.
        response = await client.request(
            method, concrete(path) + "?limit=0&after=0.5", data=b"{not json", headers={"Content-Type": "text/plain"}
        )
        body = await response.json()
        assert response.status == 401, (method, path, body)
        assert body["detail"] == "this needs a bearer token: sign in first"
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "401" in op["responses"]


async def test_query_bounds_and_required_headers_are_in_the_document(client, document: dict[str, Any]) -> None:
    def parameter(method: str, path: str, name: str) -> dict[str, Any]:
        op = document["paths"][path][method]
        return next(p for p in op["parameters"] if p["name"] == name)

    bounds = {
        ("get", "/api/v1/brands/{brand_slug}/orders"): (1, 500),
        ("get", "/api/v1/public/brands/{brand_slug}/episodes"): (1, 200),
        ("get", "/api/v1/public/episodes/{episode_id}/chat"): (1, 1000),
    }
    for (method, path), (low, high) in bounds.items():
        limit = parameter(method, path, "limit")
        assert limit["in"] == "query" and not limit["required"]
        assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (low, high)
        too_high = await client.get(concrete(path) + f"?limit={high + 1}")
        if path.endswith("/orders"):  # the orders need a token first, whatever the query
            assert too_high.status == 401, await too_high.text()
        else:
            problem = await too_high.json()
            assert (
                too_high.status == 422 and f"limit: Input should be less than or equal to {high}" in problem["detail"]
            ), problem
    key = parameter("post", "/api/v1/brands/{brand_slug}/orders", "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 200)
    replay = document["paths"]["/api/v1/brands/{brand_slug}/orders"]["post"]["responses"]["200"]
    assert "Idempotency-Key" in replay["description"]


async def test_ids_in_paths_are_uuids_in_the_document(document: dict[str, Any]) -> None:
    checked = 0
    for method, path, op in operations(document):
        for param in op.get("parameters", []):
            if param["in"] == "path" and param["name"].endswith("_id"):
                assert param["schema"] == {"type": "string", "format": "uuid"}, (method, path, param)
                checked += 1
    assert checked > 30


async def test_an_undeclared_method_gets_405_with_the_methods_allowed(client) -> None:
    for path, allowed in (("/api/v1/me", "GET"), (f"/live/{SOME_ID}/whip", "POST")):
        response = await client.request("TRACE", path)
        assert response.status == 405
        assert allowed in response.headers["Allow"].split(","), response.headers.get("Allow")
        assert (await response.json())["detail"] == f"no route TRACE {path}"


async def test_the_chat_after_a_time_needs_a_time_with_an_offset(client, episode: dict[str, Any]) -> None:
    path = f"/api/v1/public/episodes/{episode['id']}/chat"
    for after in ("0.5", "1700000000", "2026-09-20T10:00", "2026-09-20T10:00:00"):
        response = await client.get(path, params={"after": after})
        body = await response.json()
        assert response.status == 422, (after, body)
        assert body["detail"].startswith("after: use a date-time with an offset"), body
    for after in ("2026-09-20T10:00:00Z", "2026-09-20T12:00:00+02:00"):
        response = await client.get(path, params={"after": after})
        assert response.status == 200, await response.text()


async def test_a_show_and_its_episodes_are_written_with_offsets(client, factory: Factory) -> None:
    await factory.brand("acme")
    manager = await factory.staff("acme", "manager")
    show = await factory.show("acme", manager, first_episode_at="2026-11-03T19:00")
    assert show["first_episode_at"] == "2026-11-03T19:00:00+01:00"  # Paris in winter
    fetched = await (await client.get(f"/api/v1/shows/{show['id']}", headers=manager.headers)).json()
    assert fetched["first_episode_at"] == show["first_episode_at"]
    episode = (await factory.episodes(show["id"], manager))[0]
    assert episode["starts_at"] == "2026-11-03T18:00:00Z"
    assert episode["starts_at_local"] == "2026-11-03T19:00:00+01:00"
