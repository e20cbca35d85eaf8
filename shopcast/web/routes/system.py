"""Health and the API description: plain handlers, since they must answer when the database cannot."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from shopcast.web.api import Api
from shopcast.web.context import RESOURCES


class PartHealth(BaseModel):
    status: Literal["up", "down"]
    kind: str = Field(description="sqlite or postgresql; in-process or redis.")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: PartHealth
    bus: PartHealth


async def healthz(request: web.Request) -> web.Response:
    resources = request.app[RESOURCES]
    database = await resources.database.ping()
    bus = await resources.bus.ping()
    health = Health(
        status="ok" if database and bus else "degraded",
        database=PartHealth(status="up" if database else "down", kind=resources.database.dialect),
        bus=PartHealth(status="up" if bus else "down", kind=resources.bus.kind),
    )
    return web.json_response(text=health.model_dump_json(), status=200 if database and bus else 503)


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


HEALTH_DOC: dict[str, Any] = {
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Whether the database and the bus answer",
            "tags": ["system"],
            "responses": {"200": _json(Health, "Both up"), "503": _json(Health, "One is down")},
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["system"],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}
            },
        }
    },
}


def api_document(apis: list[Api]) -> dict[str, Any]:
    """The OpenAPI document of every route the app serves."""
    from shopcast.web import openapi
    from shopcast.web.routes.media import MEDIA_DOC
    from shopcast.web.routes.pictures import PICTURES_DOC

    return openapi.build(apis, {**HEALTH_DOC, **MEDIA_DOC, **PICTURES_DOC}, models=[Health])


def install(app: web.Application, document: dict[str, Any]) -> None:
    async def openapi_json(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/api/openapi.json", openapi_json, name="openapi")
