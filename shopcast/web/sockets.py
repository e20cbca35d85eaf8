"""Socket.IO: each episode's live room. Clients `join` with the last `seq` they saw and get a
snapshot (or exactly the events they missed); room events come from the bus with their `seq`.

Delivery uses python-socketio's own fan-out for now; the big-room work (one encode per
broadcast, bounded per-client queues) plugs in as a client manager without changing this contract.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from shopcast.accounts import service as accounts
from shopcast.core.errors import BadRequest, InvalidInput, ShopcastError
from shopcast.core.security import Principal
from shopcast.live import public as live
from shopcast.live.events import episode_room
from shopcast.web.context import RESOURCES, Resources
from shopcast.web.middleware import origin_allowed
from shopcast.web.rooms import LiveRooms

log = logging.getLogger(__name__)
MAX_PAYLOAD_BYTES = 64 * 1024
CLIENT_EVENTS = ("join",)  # what clients may send (docs/api.md documents each)
LIVE_ROOMS = web.AppKey("live_rooms", "LiveRooms")


class JoinRequest(BaseModel):
    episode_id: uuid.UUID
    last_seq: int | None = Field(None, ge=0, description="The last seq this client saw, to catch up.")


def problem(error: ShopcastError) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {
            "type": f"urn:shopcast:problem:{error.slug}",
            "title": error.title,
            "status": error.status,
            "detail": error.detail,
        },
    }


Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


def acked(handler: Handler) -> Handler:
    """Every event gets an ack: the result, or `{ok: false, error}`; no error reaches other clients."""

    async def wrapper(sid: str, data: Any = None) -> dict[str, Any]:
        try:
            return await handler(sid, data)
        except ShopcastError as error:
            return problem(error)
        except ValidationError as error:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'data'}: {e['msg']}" for e in error.errors(include_url=False)
            )
            return problem(InvalidInput(reasons))
        except Exception:
            log.exception("socket handler failed")
            return problem(ShopcastError("an unexpected error; it was logged"))

    return wrapper


def _origin_allowed(origin: str | None, environ: dict[str, Any]) -> bool:
    # engineio hands over the aiohttp request, already adjusted for a trusted proxy by middleware.
    return origin is None or origin_allowed(environ["aiohttp.request"], origin)


def install(app: web.Application) -> None:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins=_origin_allowed,
        max_http_buffer_size=MAX_PAYLOAD_BYTES,
        http_compression=False,
    )
    sio.attach(app, socketio_path="socket.io")

    def resources() -> Resources:
        return app[RESOURCES]

    async def open_rooms(app: web.Application) -> AsyncIterator[None]:
        # Inside the resources' lifetime (registered after them): the bus exists, and is still
        # open while the rooms stop following it.
        app[LIVE_ROOMS] = LiveRooms(sio, app[RESOURCES].bus)
        yield
        await app[LIVE_ROOMS].close()

    app.cleanup_ctx.append(open_rooms)

    def live_rooms() -> LiveRooms:
        return app[LIVE_ROOMS]

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "a token is needed in the connect auth: {token}; viewers get one from POST /api/v1/auth/guest"
            )
        try:
            actor = await _principal(resources(), str(token))
        except ShopcastError as error:
            raise socketio.exceptions.ConnectionRefusedError(error.detail) from None
        await sio.save_session(sid, {"actor": actor})

    @sio.on("join")
    @acked
    async def join(sid: str, data: Any) -> dict[str, Any]:
        request = JoinRequest.model_validate(data)
        res = resources()
        async with res.database.transaction() as session:
            await live.public_episode(session, episode_id=request.episode_id)  # 404 if unknown
        room = episode_room(request.episode_id)
        # Listen first, then read: nothing published from here on can fall between the two.
        await live_rooms().follow(room)
        await sio.enter_room(sid, room)
        seq = await res.bus.last_seq(room)
        if request.last_seq is not None:
            missed = await res.bus.since(room, request.last_seq)
            if missed is not None:
                events = [{"event": e.event, "seq": e.seq, "payload": e.payload} for e in missed]
                return {"ok": True, "seq": max([seq, *(e.seq for e in missed)]), "missed": events}
        async with res.database.transaction() as session:
            episode = await live.public_episode(session, episode_id=request.episode_id)
        return {"ok": True, "seq": seq, "snapshot": {"episode": episode.model_dump(mode="json")}}

    @sio.on("*")
    async def unknown(event: str, sid: str, data: Any = None) -> dict[str, Any]:
        return problem(BadRequest(f"unknown event {event!r}"))


async def _principal(resources: Resources, token: str) -> Principal:
    claims = resources.signer.verify(token)
    if claims.kind == "guest":
        return accounts.guest_principal(guest_id=claims.subject, nickname=claims.name)
    async with resources.database.transaction() as session:
        return await accounts.load_principal(session, user_id=claims.subject)
