"""The OpenAPI 3.1 document, generated from the declared routes and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter

from shopcast import __version__
from shopcast.core.errors import ShopcastError
from shopcast.web.api import Api, Operation

REF = "#/components/schemas/{model}"
_TITLES = {cls.status: cls.title for cls in ShopcastError.__subclasses__()}


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


def _schema(tp: Any, components: dict[str, Any], mode: str) -> dict[str, Any]:
    schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    components.update(schema.pop("$defs", {}))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        components[tp.__name__] = schema
        return {"$ref": REF.format(model=tp.__name__)}
    return schema


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": _schema(kind, components, "validation")}
        for name, kind in op.path_params.items()
    ]
    if op.query is not None:
        for name, info in op.query.model_fields.items():
            annotation = info.annotation
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": info.is_required(),
                    "description": info.description or "",
                    "schema": TypeAdapter(annotation).json_schema(mode="validation"),
                }
            )
    return params


def _responses(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.status == 204:
        responses["204"] = {"description": "Done."}
    elif op.produces == "application/json":
        content = {"application/json": {"schema": _schema(op.response, components, "serialization")}}
        responses[str(op.status)] = {"description": "OK", "content": content}
    else:
        responses[str(op.status)] = {"description": "OK", "content": {op.produces: {"schema": {"type": "string"}}}}
    codes = set(op.errors)
    if op.body is not None or op.query is not None:
        codes.add(422)
    if op.access == "signed-in":
        codes.update({401, 403})
    if op.path_params:
        codes.add(404)
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for code in sorted(codes):
        responses[str(code)] = {"description": _TITLES.get(code, "Error"), "content": problem}
    return responses


def build(apis: list[Api], extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": Problem.model_json_schema(ref_template=REF)}
    paths: dict[str, Any] = {}
    for op in (op for api in apis for op in api.operations):
        entry: dict[str, Any] = {
            "operationId": op.handler.__name__,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(op, components),
            "responses": _responses(op, components),
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components, "validation")}},
            }
        if op.access == "signed-in":
            entry["security"] = [{"bearer": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    for path, item in (extra_paths or {}).items():
        paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shopcast", "version": __version__, "description": "Live-commerce backend API."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def route_template(path: str) -> str:
    """aiohttp's `{name}` and OpenAPI's `{name}` agree; regex parts are dropped."""
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)
