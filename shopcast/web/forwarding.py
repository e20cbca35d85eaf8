"""Requests for a session another app process holds are passed on to it.

Socket.IO long-polling keeps each session in the memory of the process that opened it (python-engineio),
and so do WHIP and WHEP sessions (their peer connection). Their ids begin with the id of the node
holding them (`core.nodes`): a poll, a WebSocket upgrade of a polling session or a DELETE of a WebRTC
session that reaches another process (the kernel spreads connections over the workers of
`shopcast serve --workers N`; a proxy without sticky sessions spreads them over replicas) is passed
on, over HTTP, to the internal listener of the node holding it, and its answer passed back; a
WebSocket is piped both ways. A Socket.IO client that opens on WebSocket, as the pages do, never
needs this: its session lives where its connection is.

The request passed on carries what the first process knew of it (the client's address, scheme, host,
and the local address it reached, which the origin rule needs) in `Shopcast-Relay-*` headers, trusted
only beside a `Shopcast-Relay` token derived from the signing key: the internal listener refuses
requests without it, and a request passed on once is never passed on again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from shopcast.core import tasks
from shopcast.core.nodes import ID_LENGTH, Nodes, owner_of
from shopcast.core.settings import Settings

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN = "Shopcast-Relay"
FOR, PROTO, HOST, LOCAL = "Shopcast-Relay-For", "Shopcast-Relay-Proto", "Shopcast-Relay-Host", "Shopcast-Relay-Local"
NODE_HEADER, VIA_HEADER = "Shopcast-Node", "Shopcast-Via"
"""The node that answered, and the one that passed the request on to it: for operators (which worker
or replica served this?), and for tests."""
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", TOKEN, FOR, PROTO, HOST, LOCAL,
    )
)  # fmt: skip
_WEBSOCKET_HEADERS = ("Origin", "User-Agent", "Accept-Language", "Cookie", "Authorization")
SESSION_ROUTES = frozenset({"whip_session", "whep_session"})
# Requests of other app processes that prove themselves with a token of their own (a show's video pulled
# from its origin, shopcast/web/origin_link.py): taken on the internal listener without ours.
OWN_PROOF_ROUTES = frozenset({"relay", "relay_session"})
CONNECT_SECONDS = 5
# A long poll is answered within engineio's ping interval (25 s): well within this.
READ_SECONDS = 90

RELAYED = web.RequestKey("relayed", bool)
LOCAL_ADDRESS = web.RequestKey("local_address", tuple)
"""The local (address, port) the client reached, for a request another process passed on."""


def relay_token(settings: Settings) -> str:
    """What proves a request comes from another app process: only those know the signing key."""
    key = settings.signing_key().encode()
    return hmac.new(key, b"shopcast: a request passed on by another app process", hashlib.sha256).hexdigest()


class Forwarder:
    """This process's node, and what passes requests on to the others."""

    def __init__(self, nodes: Nodes, token: str, *, internal_port: int | None, max_message_bytes: int) -> None:
        self.nodes = nodes
        self._token = token
        self._max_message_bytes = max_message_bytes
        self.internal_port = internal_port
        """The port of this process's internal listener (None: it has none, as in tests)."""
        self._client: aiohttp.ClientSession | None = None

    def trusts(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self._token)

    def local_session(self, session: str) -> str:
        """A WebRTC session id as this process's registry knows it: without this node's id."""
        return session[ID_LENGTH:] if owner_of(session) == self.nodes.id else session

    def _http(self) -> aiohttp.ClientSession:
        if self._client is None:
            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),  # long polls each hold a connection
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_SECONDS, sock_read=READ_SECONDS),
                auto_decompress=False,
            )
        return self._client

    def _relay_headers(self, request: web.Request) -> dict[str, str]:
        local = request.transport.get_extra_info("sockname") if request.transport else None
        headers = {TOKEN: self._token, PROTO: request.scheme, HOST: request.host}
        if request.remote:
            headers[FOR] = request.remote
        if local:
            headers[LOCAL] = f"{local[0]} {local[1]}"
        return headers

    async def forward(self, request: web.Request, address: str) -> web.StreamResponse | None:
        """The answer of the node at `address` to the request; None if it cannot be reached."""
        try:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await self._pipe(request, address)
            return await self._pass_on(request, address)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            log.info("could not pass %s %s on to %s: %s", request.method, request.path, address, exc)
            return None

    async def _pass_on(self, request: web.Request, address: str) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.update(self._relay_headers(request))
        body = await request.read()
        async with self._http().request(
            request.method, address + request.path_qs, headers=headers, data=body, allow_redirects=False
        ) as answer:
            payload = await answer.read()
            kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP]
        response = web.Response(status=answer.status, body=payload)
        for name, value in kept:
            response.headers.add(name, value)
        return response

    async def _pipe(self, request: web.Request, address: str) -> web.WebSocketResponse | None:
        headers = {k: request.headers[k] for k in _WEBSOCKET_HEADERS if k in request.headers}
        headers.update(self._relay_headers(request))
        upstream = await self._http().ws_connect(
            address + request.path_qs, headers=headers, max_msg_size=0, compress=0, autoping=True
        )
        try:
            ws = web.WebSocketResponse(compress=False, max_msg_size=self._max_message_bytes)
            await ws.prepare(request)
            copies = [asyncio.create_task(_copy(upstream, ws)), asyncio.create_task(_copy(ws, upstream))]
            try:
                await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for copy in copies:
                    await tasks.stop(copy)
                await ws.close()
            return ws
        finally:
            await upstream.close()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self.nodes.close()


async def _copy(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type == aiohttp.WSMsgType.TEXT:
            await target.send_str(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            await target.send_bytes(message.data)
        else:
            return


FORWARDER = web.AppKey("forwarder", Forwarder)
INTERNAL_LISTENER = web.AppKey("internal_listener", tuple)
"""(host, port) of this process's internal listener, set before the app starts by who serves it."""


def listener_address(listener: tuple[str, int]) -> str:
    host, port = listener[0], listener[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _session_owner(request: web.Request) -> str | None:
    if request.path.startswith("/socket.io/"):
        sid = request.query.get("sid")
        return owner_of(sid) if sid else None
    route = request.match_info.route
    if route.name in SESSION_ROUTES:
        return owner_of(request.match_info["session"])
    return None


@web.middleware
async def relayed(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request another app process passed on: as that process received it. On the internal listener
    nothing else is taken, but requests of other processes that carry a proof of their own."""
    forwarder = request.app[FORWARDER]
    if not forwarder.trusts(request.headers.get(TOKEN)):
        local = request.transport.get_extra_info("sockname") if request.transport else None
        internal = local and forwarder.internal_port is not None and local[1] == forwarder.internal_port
        if internal and request.match_info.route.name not in OWN_PROOF_ROUTES:
            log.warning("refused %s %s on the internal listener: not from an app process", request.method, request.path)
            return web.Response(status=403, text="only Shopcast's own app processes may call this port")
        return await handler(request)
    changes: dict[str, str] = {}
    if client := request.headers.get(FOR):
        changes["remote"] = client
    if scheme := request.headers.get(PROTO):
        changes["scheme"] = scheme
    if host := request.headers.get(HOST):
        changes["host"] = host
    passed_on = request.clone(**changes)
    passed_on[RELAYED] = True
    if local := request.headers.get(LOCAL):
        address, _, port = local.rpartition(" ")
        passed_on[LOCAL_ADDRESS] = (address, int(port)) if port.isdigit() else ()
    return await handler(passed_on)


@web.middleware
async def to_owner(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request for a session held by another node goes there (see the module's docstring)."""
    forwarder = request.app[FORWARDER]
    owner = _session_owner(request)
    if owner is not None and owner != forwarder.nodes.id and not request.get(RELAYED):
        address = await forwarder.nodes.address(owner)
        # Unknown or unreachable (that node is gone): answered here, as a session this process does not hold.
        response = await forwarder.forward(request, address) if address is not None else None
        if response is not None:
            if not response.prepared:
                response.headers[VIA_HEADER] = forwarder.nodes.id
            return response
    response = await handler(request)
    if not response.prepared:
        response.headers.setdefault(NODE_HEADER, forwarder.nodes.id)
    return response
