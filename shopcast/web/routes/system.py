"""Health and the API description: plain handlers, since they must answer when the database cannot."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shopcast.web.api import Api
from shopcast.web.context import RESOURCES


async def healthz(request: web.Request) -> web.Response:
    resources = request.app[RESOURCES]
    database = await resources.database.ping()
    bus = await resources.bus.ping()
    body = {
        "status": "ok" if database and bus else "degraded",
        "database": {"status": "up" if database else "down", "kind": resources.database.dialect},
        "bus": {"status": "up" if bus else "down", "kind": resources.bus.kind},
    }
    return web.json_response(body, status=200 if database and bus else 503)


HEALTH_DOC: dict[str, Any] = {
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Whether the database and the bus answer",
            "tags": ["system"],
            "responses": {"200": {"description": "Both up"}, "503": {"description": "One is down"}},
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["system"],
            "responses": {"200": {"description": "OpenAPI 3.1"}},
        }
    },
}


def api_document(apis: list[Api]) -> dict[str, Any]:
    """The OpenAPI document of every route the app serves."""
    from shopcast.web import openapi
    from shopcast.web.routes.media import MEDIA_DOC

    return openapi.build(apis, {**HEALTH_DOC, **MEDIA_DOC})


def install(app: web.Application, apis: list[Api]) -> None:
    document = api_document(apis)

    async def openapi_json(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/api/openapi.json", openapi_json, name="openapi")
