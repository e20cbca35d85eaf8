"""The OpenAPI 3.1 document, generated from the declared routes and their pydantic models.

Everything a route can answer is in its entry, from the same declarations that run it: the query,
header and body models with their bounds, the statuses its handler declares, and those the shared
machinery adds wherever it can happen (a body that is not JSON, too large or of another type; a
missing token on a secured route; a malformed or unknown id). The security written here is also
what middleware.caller enforces, so the two cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, TypeAdapter

from shopcast import __version__
from shopcast.core.errors import ShopcastError
from shopcast.web.api import Api, Operation

REF = "#/components/schemas/{model}"
_TITLES = {cls.status: str(cls.title) for cls in ShopcastError.__subclasses__()}
BEARER = [{"bearer": []}]


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


def _present(schema: dict[str, Any]) -> dict[str, Any]:
    """A query or header value is absent or text, never JSON null: `X | None` is just X there."""
    options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
        return {**options[0], **rest}
    return schema


def _model_parameters(model: type[BaseModel], where: str, components: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field of a query or header model, with its bounds, default and description."""
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    params = []
    for name, field in schema.get("properties", {}).items():
        field = _present({k: v for k, v in field.items() if k != "title"})
        param = {"name": name, "in": where, "required": name in required, "schema": field}
        if "description" in field:
            param["description"] = field.pop("description")
        params.append(param)
    return params


def path_parameters(names: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": _schema(kind, components, "validation")}
        for name, kind in names.items()
    ]


def problems(codes: Iterable[int]) -> dict[str, Any]:
    """Problem-JSON responses for these statuses."""
    content = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    responses: dict[str, Any] = {}
    for code in sorted(set(codes)):
        responses[str(code)] = {"description": _TITLES.get(code, "Error"), "content": content}
        if code == 429:
            responses[str(code)]["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
    return responses


def problem_codes(*, secured: bool, path_params: bool, errors: Iterable[int] = ()) -> set[int]:
    """What any route may answer besides what it declares: 401/403 when secured, 404 for an id in its path."""
    codes = set(errors)
    if secured:
        codes.update({401, 403})
    if path_params:
        codes.add(404)
    return codes


def plain_operation(
    operation_id: str,
    summary: str,
    *,
    tag: str = "video",
    path: dict[str, Any],
    responses: dict[str, Any],
    request: str | None = None,
    secured: bool = False,
    errors: Iterable[int] = (),
) -> dict[str, Any]:
    """The entry of a route that is not declared on an `Api` (video): the same shared statuses and security."""
    codes = problem_codes(secured=secured, path_params=bool(path), errors=errors)
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "parameters": path_parameters(path, {}),
        "responses": {**responses, **problems(codes)},
    }
    if request is not None:
        operation["requestBody"] = {"required": True, "content": {request: {"schema": {"type": "string"}}}}
    if secured:
        operation["security"] = BEARER
    return operation


def _responses(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.status == 204:
        responses["204"] = {"description": "Done."}
    elif op.produces == "application/json":
        content = {"application/json": {"schema": _schema(op.response, components, "serialization")}}
        responses[str(op.status)] = {"description": "OK", "content": content}
        for status, meaning in op.also.items():
            responses[str(status)] = {"description": meaning, "content": content}
    else:
        responses[str(op.status)] = {"description": "OK", "content": {op.produces: {"schema": {"type": "string"}}}}
    codes = problem_codes(secured=op.secured, path_params=bool(op.path_params), errors=op.errors)
    if op.body is not None:
        # Not JSON (400), over SHOPCAST_MAX_BODY_BYTES (413), another content type (415), invalid (422).
        codes.update({400, 413, 415, 422})
    if op.upload:
        # A file: over its limit (413), not of a type taken (415), not readable as one (422).
        codes.update({413, 415, 422})
    if op.query is not None:
        codes.add(422)
    if op.headers is not None:
        codes.add(400)
    return {**responses, **problems(codes)}


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    params = path_parameters(op.path_params, components)
    if op.query is not None:
        params += _model_parameters(op.query, "query", components)
    if op.headers is not None:
        params += _model_parameters(op.headers, "header", components)
    return params


def build(
    apis: list[Api], extra_paths: dict[str, Any] | None = None, models: Iterable[type[BaseModel]] = ()
) -> dict[str, Any]:
    """The document of `apis`, plus hand-written `extra_paths` whose schemas refer to `models`."""
    components: dict[str, Any] = {}
    for model in (Problem, *models):
        _schema(model, components, "serialization")
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
        if op.upload:
            binary = {"schema": {"type": "string", "format": "binary"}}
            entry["requestBody"] = {"required": True, "content": dict.fromkeys(op.upload, binary)}
        if op.secured:
            entry["security"] = BEARER
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


def secured_routes(document: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """(METHOD, path template) of every operation the document says needs a token."""
    return frozenset(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security") and {} not in operation["security"]
    )


def route_template(path: str) -> str:
    """aiohttp's `{name}` and OpenAPI's `{name}` agree; regex parts are dropped."""
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)
