"""Declared JSON routes: one declaration gives the aiohttp route, its validation and its OpenAPI entry.

A handler is `async def name(call: Call, <path params>, query: Model?, headers: Model?, body: Model?)`;
path parameters are parsed by their annotation (a malformed id is a 404, like an unknown one),
the query and body by their pydantic models (a bad one is a 422 that names each field), the
headers by theirs (a missing or bad one is a 400), and the result is serialised with the declared
response model inside the request's transaction. The caller's token is checked before any of it
(middleware.caller), so a request without one is a 401 whatever else is wrong with it.
"""

from __future__ import annotations

import inspect
import ipaddress
import typing
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from shopcast.core.errors import BadRequest, NotFound, Phrase, UnsupportedMediaType, field_reason, invalid_input
from shopcast.core.security import Principal
from shopcast.web import language
from shopcast.web.context import RESOURCES, Resources

Access = Literal["public", "signed-in"]
PRINCIPAL = web.RequestKey("principal", Principal)


def client_address(request: web.Request) -> str:
    """Who the caller is for per-address limits: their address, or for IPv6 their /64 network
    (one subscriber's prefix, inside which they can change address at will)."""
    remote = request.remote or "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass
class Call:
    """One request as a handler sees it: who calls, the transaction, the app's resources."""

    request: web.Request
    session: AsyncSession
    resources: Resources

    @property
    def actor(self) -> Principal | None:
        return self.request.get(PRINCIPAL)

    @property
    def client(self) -> str:
        """The caller's address, for rate limits."""
        return client_address(self.request)

    def now(self) -> datetime:
        return self.resources.clock.now()


@dataclass
class Raw:
    """A result written as is: a non-JSON body (a calendar file), or another status than the declared one."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None


@dataclass
class Operation:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    summary: str
    tag: str
    access: Access
    status: int
    response: Any
    produces: str
    path_params: dict[str, type]
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    headers: type[BaseModel] | None
    errors: tuple[int, ...]
    also: dict[int, str]
    upload: tuple[str, ...]

    @property
    def secured(self) -> bool:
        return self.access == "signed-in"


_MODEL_PARAMETERS = ("body", "query", "headers")


class Api:
    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        response: Any = None,
        status: int = 200,
        access: Access = "public",
        produces: str = "application/json",
        errors: tuple[int, ...] = (),
        also: dict[int, str] | None = None,
        upload: tuple[str, ...] = (),
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """Declare a route. `errors`: the problem statuses the handler itself may answer (those of the
        request's shape, token and path are added); `also`: other success statuses a `Raw` result may
        carry, with what each means; `upload`: the media types of a body that is a file, not JSON,
        which the handler reads itself from `call.request` (413, 415 and 422 are its refusals)."""

        def declare(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            hints = typing.get_type_hints(handler)
            names = [p for p in inspect.signature(handler).parameters if p != "call"]
            models = {name: hints[name] if name in names else None for name in _MODEL_PARAMETERS}
            self.operations.append(
                Operation(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=tag,
                    access=access,
                    status=status,
                    response=response,
                    produces=produces,
                    path_params={n: hints[n] for n in names if n not in _MODEL_PARAMETERS},
                    body=models["body"],
                    query=models["query"],
                    headers=models["headers"],
                    errors=errors,
                    also=also or {},
                    upload=upload,
                )
            )
            return handler

        return declare

    def install(self, app: web.Application) -> None:
        for op in self.operations:
            app.router.add_route(op.method, op.path, _endpoint(op), name=op.handler.__name__)


def _endpoint(op: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    dump = TypeAdapter(op.response).dump_json if op.response is not None else None

    async def endpoint(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        for name, kind in op.path_params.items():
            kwargs[name] = _path_value(request.match_info[name], kind)
        if op.query is not None:
            kwargs["query"] = _validate(op.query, dict(request.query))
        if op.headers is not None:
            kwargs["headers"] = _read_headers(op.headers, request)
        if op.body is not None:
            kwargs["body"] = _validate(op.body, await _json_body(request))
        resources = request.app[RESOURCES]
        async with resources.database.transaction() as session:
            result = await op.handler(Call(request, session, resources), **kwargs)
            # Serialised inside the transaction: a result that cannot be written rolls it back.
            if isinstance(result, Raw):
                status = result.status or op.status
                if status != op.status and status not in op.also:
                    # The document is the contract: a status it does not list is our bug, not the client's.
                    raise RuntimeError(f"{op.handler.__name__} answered {status}, which its route does not declare")
                return web.Response(
                    body=result.body,
                    status=status,
                    content_type=None,
                    headers={"Content-Type": result.content_type, **result.headers},
                )
            # In the caller's language: the few fields that are sentences (core.errors.Phrase).
            body = dump(result, context={"language": language.of_reader(request)}) if dump is not None else b""
        if op.status == 204:
            return web.Response(status=204)
        return web.Response(body=body, status=op.status, content_type="application/json")

    return endpoint


def _path_value(raw: str, kind: type) -> Any:
    if kind is uuid.UUID:
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise NotFound("errors.http.not_an_id", value=raw) from None
    return raw


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise UnsupportedMediaType("errors.http.json_only")
    raw = await request.read()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise BadRequest("errors.http.not_json", error=str(exc)) from exc


def _read_headers(model: type[BaseModel], request: web.Request) -> BaseModel:
    names = [info.alias or name for name, info in model.model_fields.items()]
    try:
        return model.model_validate({name: request.headers[name] for name in names if name in request.headers})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = str(error["loc"][0])
        info = next(i for n, i in model.model_fields.items() if (i.alias or n) == name)
        article = Phrase("errors.http.an" if name[0].lower() in "aeiou" else "errors.http.a")
        raise BadRequest(
            "errors.http.header", article=article, name=name, reason=field_reason(error), description=info.description
        ) from None


def _validate(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, whole="body") from None
