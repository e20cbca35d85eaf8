"""Cross-cutting HTTP behaviour, each in one place: problems, origins, headers, the caller."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from shopcast.accounts import service as accounts
from shopcast.core.errors import Forbidden, PayloadTooLarge, Phrase, ShopcastError, Unauthorized, in_language
from shopcast.core.security import signed_in
from shopcast.core.settings import DEFAULT_PORTS
from shopcast.web import language
from shopcast.web.api import PRINCIPAL
from shopcast.web.context import RESOURCES, SECURED
from shopcast.web.forwarding import LOCAL_ADDRESS, RELAYED
from shopcast.web.openapi import route_template

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_SLUGS = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}


def problem(error: ShopcastError, lang: str) -> dict[str, Any]:
    """The error as problem details (RFC 9457), its title and detail in `lang`."""
    return {
        "type": f"urn:shopcast:problem:{error.slug}",
        "title": error.title.in_language(lang),
        "status": error.status,
        "detail": error.reason.in_language(lang),
        **in_language(error.extra, lang),
    }


def problem_response(error: ShopcastError, lang: str, headers: dict[str, str] | None = None) -> web.Response:
    headers = {**(headers or {}), "Content-Language": lang}
    if "retry_after" in error.extra:
        headers["Retry-After"] = str(error.extra["retry_after"])
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"  # RFC 9110: a 401 names the scheme that would do
    response = web.Response(
        body=orjson.dumps(problem(error, lang)),
        status=error.status,
        content_type="application/problem+json",
        headers=headers,
    )
    language.vary(response, *language.CHOSEN_BY)  # its words follow the reader's language
    return response


class _Refused(ShopcastError):
    """aiohttp's own refusal (no such route, a method the path does not have, …) as a typed error."""

    def __init__(self, exc: web.HTTPException, request: web.Request) -> None:
        if exc.status in (404, 405):
            super().__init__("errors.http.no_route", method=request.method, path=request.path)
        else:
            super().__init__("errors.http.refused", reason=exc.text or exc.reason)
        self.status = exc.status
        self.slug = _HTTP_SLUGS.get(exc.status, "http-error")
        self.title = Phrase(f"errors.title.{self.slug.replace('-', '_')}")


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as problem JSON (RFC 9457): typed errors, aiohttp's own, and crashes, in
    the language the client asks for (English when it asks for none)."""
    headers = None
    try:
        return await handler(request)
    except ShopcastError as exc:
        error = exc
    except web.HTTPRequestEntityTooLarge:
        error = PayloadTooLarge("errors.http.too_large", limit=request.app[RESOURCES].settings.max_body_bytes)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(("/api/", "/healthz", "/live/", "/pictures/")):
            raise
        error = _Refused(exc, request)
        # A 405 says which methods the path has (RFC 9110); aiohttp put them in `Allow`.
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        error = ShopcastError("errors.unexpected")
    return problem_response(error, language.of_reader(request), headers)


_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Paths whose only authority is a token in their address, never a cookie or a bearer token a browser adds
# by itself: a request from anywhere does nothing its sender could not do directly. The unsubscribe link
# is posted to by mail providers (RFC 8058) and by its own page, whose no-referrer policy sends `Origin: null`.
ANY_ORIGIN = frozenset({"/unsubscribe"})


def _own_origins(request: web.Request) -> set[str]:
    """Shopcast's own origin: SHOPCAST_PUBLIC_URL's; without one, when the request reached a
    loopback address (`make run`), that port on 127.0.0.1, localhost and [::1]. Never from the
    Host header, which a page whose name now resolves to us (DNS rebinding) chooses."""
    public = request.app[RESOURCES].settings.public_origin
    if public is not None:
        return {public}
    local = request.get(LOCAL_ADDRESS) or (request.transport.get_extra_info("sockname") if request.transport else None)
    if not local:
        return set()
    try:
        address = ipaddress.ip_address(local[0])
    except ValueError:
        return set()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_loopback:
        return set()
    port = "" if local[1] == DEFAULT_PORTS["http"] else f":{local[1]}"
    return {f"http://127.0.0.1{port}", f"http://localhost{port}", f"http://[::1]{port}"}


def origin_allowed(request: web.Request, origin: str) -> bool:
    """The browser origin rule, for HTTP and Socket.IO alike: our own origin, or a listed one."""
    return origin in _own_origins(request) or origin in request.app[RESOURCES].settings.allowed_origins


@web.middleware
async def origins(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Browsers may call the API from our own origin or SHOPCAST_ALLOWED_ORIGINS, nowhere else."""
    origin = request.headers.get("Origin")
    if origin is None or request.path in ANY_ORIGIN:
        return await handler(request)
    own = origin in _own_origins(request)
    if not own and origin not in request.app[RESOURCES].settings.allowed_origins:
        if request.method in _UNSAFE or request.method == "OPTIONS":
            return problem_response(Forbidden("errors.http.origin", origin=origin), language.of_reader(request))
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response: web.StreamResponse = web.Response(status=204)
    else:
        response = await handler(request)
    if not own:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "Location"
        language.vary(response, "Origin")
    return response


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith("/static/"):
        # Bundle names are stable across releases: revalidate so an upgrade is seen at once.
        headers.setdefault("Cache-Control", "no-cache")
    if response.content_type == "text/html":
        headers.setdefault("Content-Security-Policy", _CSP)
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
        headers.setdefault("Cache-Control", "no-store")
    return response


def _needs_token(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    if resource is None:
        return False
    method = "GET" if request.method == "HEAD" else request.method
    return (method, route_template(resource.canonical)) in request.app[SECURED]


@web.middleware
async def caller(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is calling, from the bearer token; a token that does not check out is a 401, not a guest.

    A route the API document secures gets its 401 here, before its query, headers or body are read:
    a client without a token learns that first, whatever else is wrong with its request.
    """
    header = request.headers.get("Authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("errors.auth.bearer_scheme")
        resources = request.app[RESOURCES]
        claims = resources.signer.verify(token.strip())
        if claims.kind == "guest":
            request[PRINCIPAL] = accounts.guest_principal(guest_id=claims.subject, nickname=claims.name)
        else:
            async with resources.database.transaction() as session:
                request[PRINCIPAL] = await accounts.load_principal(session, user_id=claims.subject)
    if _needs_token(request):
        signed_in(request.get(PRINCIPAL))
    return await handler(request)


def _forwarded_client(lines: list[str], hops: int) -> str | None:
    """The client's address in X-Forwarded-For as `hops` trusted proxies leave it, each appending
    the address it took the request from: the outermost proxy's entry, `hops` from the end.
    Whatever comes before it is the client's own claim, which it could choose."""
    addresses = [part.strip() for line in lines for part in line.split(",") if part.strip()]
    # Fewer entries than proxies: some proxy added none; the first is the nearest to the client there is.
    return addresses[max(0, len(addresses) - hops)] if addresses else None


@web.middleware
async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Behind trusted reverse proxies: the client's address, scheme and host from X-Forwarded-*."""
    if request.get(RELAYED):  # the process that passed it on has read them already
        return await handler(request)
    changes = {}
    hops = request.app[RESOURCES].settings.trusted_proxy_hops
    # Every line of the header, in order: a proxy may add a line of its own after the client's.
    if client := _forwarded_client(request.headers.getall("X-Forwarded-For", []), hops):
        changes["remote"] = client
    if scheme := request.headers.get("X-Forwarded-Proto"):
        changes["scheme"] = scheme.split(",")[0].strip()
    if host := request.headers.get("X-Forwarded-Host"):
        changes["host"] = host.split(",")[0].strip()
    return await handler(request.clone(**changes) if changes else request)
