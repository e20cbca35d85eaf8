"""Socket.IO: each episode's live room. Clients `join` with the last `seq` they saw and get a
snapshot (or exactly the events they missed); room events come from the bus with their `seq`.

This module holds the connection's life (connect, join, leave, disconnect) and the rules every
client event goes through (`room_event`: rate limit, validation, joined room, ack); the chat's
events are in web/chat_events.py, the shop's in web/shop_events.py, the polls' in
web/poll_events.py, giveaways' in web/giveaway_events.py. Delivery to many clients is rooms.LiveRooms' job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Never, TypeVar

import socketio
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from shopcast.accounts import service as accounts
from shopcast.chat import audience, orphaned_sessions
from shopcast.chat import service as chat
from shopcast.chat.events import VIEWER_REMOVED
from shopcast.chat.identity import Chatter, chatter
from shopcast.core import stopping
from shopcast.core.bus import Envelope
from shopcast.core.errors import BadRequest, Conflict, InvalidInput, ShopcastError, TooManyRequests, invalid_input
from shopcast.core.ratelimit import TokenBucket, whole_seconds
from shopcast.core.security import Principal
from shopcast.live.events import episode_room, room_episode
from shopcast.web import language
from shopcast.web.collector import CollectorPolicy
from shopcast.web.context import RESOURCES, Resources
from shopcast.web.forwarding import FORWARDER
from shopcast.web.joins import Admission, Joins, join_ack
from shopcast.web.middleware import origin_allowed, problem
from shopcast.web.packets import TOO_DEEP, RoomPacket
from shopcast.web.room_snapshots import RoomSnapshots
from shopcast.web.room_tallies import RoomTallies
from shopcast.web.rooms import LiveRooms
from shopcast.web.ticker import Ticker

log = logging.getLogger(__name__)
MAX_PAYLOAD_BYTES = 64 * 1024
STAFF_ALLOWANCE_FACTOR = 10
LIVE_ROOMS = web.AppKey("live_rooms", LiveRooms)
TALLIES = web.AppKey("room_tallies", RoomTallies)
JOINS = web.AppKey("joins", Joins)
SNAPSHOTS = web.AppKey("room_snapshots", RoomSnapshots)
CONNECTIONS = web.AppKey("connections", dict)


class RoomRequest(BaseModel):
    episode_id: uuid.UUID


class JoinRequest(RoomRequest):
    last_seq: int | None = Field(None, ge=0, description="The last seq this client saw, to catch up.")


@dataclass
class Membership:
    """A connection's place in one episode's room."""

    brand_id: uuid.UUID
    chatter: Chatter
    watch_id: uuid.UUID | None = None


@dataclass
class Connection:
    actor: Principal | None  # None: watching without a nickname (reads the chat, cannot write)
    allowance: TokenBucket
    language: str  # of the page: its acks' reasons are in it
    rooms: dict[uuid.UUID, Membership] = field(default_factory=dict)
    # Who an anonymous connection is for watch time: one viewer per connection.
    anonymous_id: uuid.UUID = field(default_factory=uuid.uuid4)
    # Rooms a ban took this connection out of: its events there are answered with the ban's reason.
    removed: dict[uuid.UUID, Membership] = field(default_factory=dict)
    joining: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Rooms being joined, as whom; None once a ban of that viewer was heard meanwhile.
    arriving: dict[uuid.UUID, Chatter | None] = field(default_factory=dict)


@dataclass
class RoomCall:
    """One client event in a joined room, as a handler sees it."""

    sid: str
    connection: Connection
    membership: Membership
    resources: Resources
    tallies: RoomTallies
    app: web.Application

    @property
    def actor(self) -> Principal | None:
        return self.connection.actor

    def now(self) -> datetime:
        return self.resources.clock.now()


def refusal(error: ShopcastError, lang: str) -> dict[str, Any]:
    """The ack of a refused event: `{ok: false, error}`, the problem in the connection's language."""
    body = problem(error, lang)
    return {"ok": False, "error": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in body.items()}}


Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


def acked(handler: Handler, *, language_of: Callable[[str], str]) -> Handler:
    """Every event gets an ack: the result, or `{ok: false, error}`; no error reaches other clients."""

    async def wrapper(sid: str, *arguments: Any) -> dict[str, Any]:
        try:
            if len(arguments) > 1:  # Socket.IO lets a client send several; each of ours takes one object
                raise InvalidInput("errors.room.one_object", count=len(arguments))
            if TOO_DEEP in arguments:
                raise InvalidInput("errors.room.too_deep")
            return await handler(sid, arguments[0] if arguments else None)
        except ShopcastError as error:
            return refusal(error, language_of(sid))
        except ValidationError as error:
            return refusal(invalid_input(error, whole="data"), language_of(sid))
        except Exception:
            log.exception("socket handler failed")
            return refusal(ShopcastError("errors.unexpected"), language_of(sid))

    return wrapper


def _language(auth: Any, environ: dict[str, Any]) -> str:
    """The connection's language: the page's, which it names in `auth` (`{lang}`), else what the
    connection's request asks for (`?lang=`, Accept-Language), else English."""
    asked = auth.get("lang") if isinstance(auth, dict) else None
    return asked if asked in language.catalogues() else language.of_reader(environ["aiohttp.request"])


Request = TypeVar("Request", bound=RoomRequest)
RoomHandler = Callable[[RoomCall, Any], Awaitable[dict[str, Any] | None]]
CLIENT_EVENTS: list[str] = ["join", "leave"]  # what clients may send (docs/api.md documents each)
_ROOM_EVENTS: dict[str, tuple[type[RoomRequest], RoomHandler]] = {}


def room_event(name: str, model: type[Request]) -> Callable[[Callable[[RoomCall, Request], Awaitable[Any]]], Any]:
    """Declare a client event taken in a joined room; `install` wires it with its checks and ack."""

    def register(handler: Callable[[RoomCall, Request], Awaitable[Any]]) -> Any:
        _ROOM_EVENTS[name] = (model, handler)  # type: ignore[assignment]
        CLIENT_EVENTS.append(name)
        return handler

    return register


def _origin_allowed(origin: str | None, environ: dict[str, Any]) -> bool:
    # engineio hands over the aiohttp request: the rule needs the local address it reached.
    return origin is None or origin_allowed(environ["aiohttp.request"], origin)


def install(app: web.Application) -> None:
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins=_origin_allowed,
        max_http_buffer_size=MAX_PAYLOAD_BYTES,
        http_compression=False,
        serializer=RoomPacket,
    )
    sio.attach(app, socketio_path="socket.io")
    # Session ids name the process that holds the session, so that a long poll reaching another
    # process is passed on to it (web/forwarding.py).
    own_id = sio.eio.generate_id
    sio.eio.generate_id = lambda: app[FORWARDER].nodes.session_id(own_id())
    connections: dict[str, Connection] = {}
    app[CONNECTIONS] = connections

    def resources() -> Resources:
        return app[RESOURCES]

    def language_of(sid: str) -> str:
        connection = connections.get(sid)
        return connection.language if connection is not None else language.DEFAULT

    answered = functools.partial(acked, language_of=language_of)

    async def open_rooms(app: web.Application) -> AsyncIterator[None]:
        # Inside the resources' lifetime (registered after them): the bus exists, and is still
        # open while the rooms stop following it.
        res = app[RESOURCES]
        app[LIVE_ROOMS] = LiveRooms(sio, res.bus, on_event=on_room_event)
        app[TALLIES] = RoomTallies(app[LIVE_ROOMS], res.presence, res.bus, res.database)
        app[TALLIES].start()
        app[SNAPSHOTS] = snapshots = RoomSnapshots(
            res.database,
            res.bus,
            app[LIVE_ROOMS],
            app[TALLIES],
            res.clock,
            lifetime_seconds=res.settings.join_snapshot_seconds,
        )
        app[JOINS] = Joins(res.database, snapshots, res.clock, most=res.settings.join_queue_most)
        shop_clock = _shop_events.ShopClock(res, app[LIVE_ROOMS])
        shop_clock.start()
        app[_shop_events.PIN_TAPS] = pin_taps = _shop_events.PinTaps(res)
        app[_poll_events.POLL_CLOCK] = poll_clock = _poll_events.PollClock(res)
        poll_clock.start()
        app[_giveaway_events.ENTRIES] = entries = _giveaway_events.entry_writer(res)
        collector = CollectorPolicy(lambda: connections.keys())
        collector.start()
        entry_counter = _giveaway_events.EntryCounter(res, app[LIVE_ROOMS])
        entry_counter.start()
        alive = Ticker("noting this process alive", orphaned_sessions.BEAT_SECONDS, functools.partial(beat, app))
        try:  # at once: a process that dies before its first beat would leave its sessions open
            await beat(app)
        except Exception:  # the database is not there yet: the room opens all the same
            log.exception("could not note this process alive; trying again in %s s", orphaned_sessions.BEAT_SECONDS)
        alive.start()
        yield
        await stopping.step("the beat", alive.close())
        await stopping.step("the joins", app[JOINS].close())
        await stopping.step("the giveaway entries", entries.close())
        await stopping.step("the collector policy", collector.close())
        await stopping.step("the entry counter", entry_counter.close())
        await stopping.step("the poll clock", poll_clock.close())
        await stopping.step("the taps on the pin", pin_taps.close())
        await stopping.step("the shop clock", shop_clock.close())
        await stopping.step("the room tallies", app[TALLIES].close())
        await stopping.step("the live rooms", app[LIVE_ROOMS].close())
        stop_watching_everyone()

    app.cleanup_ctx.append(open_rooms)

    async def beat(app: web.Application) -> None:
        res = resources()
        async with res.database.transaction() as session:
            closed = await orphaned_sessions.beat(session, node=app[FORWARDER].nodes.id, now=res.clock.now())
        if closed:
            log.info("closed %d watch sessions left open by app processes that died", closed)

    async def say_goodbye(app: web.Application) -> None:
        # A restart or a deploy: every client is told now ("server disconnect": pages come back a
        # little later, spread out), rather than the shutdown waiting for their connections to time
        # out, longer than a container is given to stop.
        stop_watching_everyone()
        for sid in list(connections):
            await stopping.step(f"telling client {sid} goodbye", sio.disconnect(sid))

    app.on_shutdown.append(say_goodbye)

    def stop_watching_everyone() -> None:
        """End the watch time of every connection still here (at shutdown: written as the facts close)."""
        memberships = [m for c in connections.values() for m in c.rooms.values() if m.watch_id is not None]
        watch_ids = [m.watch_id for m in memberships if m.watch_id is not None]
        for membership in memberships:
            membership.watch_id = None
        res = resources()
        audience.stop_watching(res.facts, watch_ids=watch_ids, now=res.clock.now())

    async def on_room_event(room: str, event: Envelope) -> None:
        _shop_events.heard_in_room(resources(), event)
        if event.event != VIEWER_REMOVED:
            return
        # The banned viewer heard the event with everyone; now their connections leave the room.
        episode_id = room_episode(room)
        ref = event.payload.get("ref")
        for sid, connection in list(connections.items()):
            membership = connection.rooms.get(episode_id)
            if membership is not None and membership.chatter.ref == ref:
                connection.removed[episode_id] = membership
                await leave_room(sid, connection, episode_id)
            arriving = connection.arriving.get(episode_id)
            if arriving is not None and arriving.ref == ref:  # its join, under way, must not let it in
                connection.arriving[episode_id] = None

    async def leave_room(sid: str, connection: Connection, episode_id: uuid.UUID) -> None:
        membership = connection.rooms.pop(episode_id, None)
        await sio.leave_room(sid, episode_room(episode_id))
        if membership is not None:
            app[TALLIES].left(episode_room(episode_id), membership.chatter)
        if membership is not None and membership.watch_id is not None:
            res = resources()
            audience.stop_watching(res.facts, watch_ids=[membership.watch_id], now=res.clock.now())

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        lang = _language(auth, environ)
        res = resources()
        actor = None
        if token:
            try:
                actor = await _principal(res, str(token))
            except ShopcastError as error:
                raise socketio.exceptions.ConnectionRefusedError(error.reason.in_language(lang)) from None
        settings = res.settings
        # Staff moderate in bursts (clearing a wave of spam): a larger allowance, still bounded.
        factor = STAFF_ALLOWANCE_FACTOR if actor is not None and actor.roles else 1
        allowance = TokenBucket(
            rate=settings.chat_events_per_second * factor, burst=settings.chat_event_burst * factor, clock=res.clock
        )
        connections[sid] = Connection(actor, allowance, lang)

    @sio.event
    async def disconnect(sid: str, reason: Any = None) -> None:
        connection = connections.pop(sid, None)
        if connection is None:
            return
        for episode_id, membership in connection.rooms.items():
            app[TALLIES].left(episode_room(episode_id), membership.chatter)
        watch_ids = [m.watch_id for m in connection.rooms.values() if m.watch_id is not None]
        if watch_ids:
            res = resources()
            audience.stop_watching(res.facts, watch_ids=watch_ids, now=res.clock.now())

    def connection_of(sid: str) -> Connection:
        connection = connections.get(sid)
        if connection is None:
            raise Conflict("errors.room.closing")
        retry_after = connection.allowance.take()
        if retry_after is not None:
            seconds = whole_seconds(retry_after)
            raise TooManyRequests("errors.limit.events", seconds=seconds, retry_after=seconds)
        return connection

    @sio.on("join")
    @answered
    async def join(sid: str, data: Any) -> dict[str, Any]:
        connection = connection_of(sid)
        request = JoinRequest.model_validate(data)
        actor = connection.actor
        if actor is not None and actor.roles:
            # A brand's staff (the host's studio, the moderators) are few, and the show needs them in.
            return await enter(sid, connection, request)
        # Past the joins this process answers at once, a join is refused before it costs anything:
        # 503 busy, with when to come back (docs/operations.md, "Joins at 19:00").
        with app[JOINS].line.place():
            return await enter(sid, connection, request)

    async def enter(sid: str, connection: Connection, request: JoinRequest) -> dict[str, Any]:
        episode_id = request.episode_id
        # One join at a time per connection: each holds the room's events for it until its ack is out.
        async with connection.joining:
            res = resources()
            brand_id = await app[JOINS].brand_of(episode_id)  # 404 before anything follows an unknown room
            secret = res.settings.signing_key().encode()
            who = chatter(connection.actor, brand_id, secret=secret, anonymous_id=connection.anonymous_id)
            connection.arriving[episode_id] = who
            try:
                room = episode_room(episode_id)
                async with app[LIVE_ROOMS].entering(sid, room) as entry:
                    answer = await answer_join(sid, request, who)
                    if connection.arriving.get(episode_id) is None:  # a ban of theirs was heard meanwhile
                        await refuse_if_banned(brand_id, who)
                    settle(sid, connection, episode_id, brand_id, who)
                    ack = answer if isinstance(answer, dict) else join_ack(answer, who, app[TALLIES].viewers(room))
                    entry.seq = ack["seq"]
                    return ack
            finally:
                connection.arriving.pop(episode_id, None)

    async def answer_join(sid: str, request: JoinRequest, who: Chatter) -> dict[str, Any] | Admission:
        """Let the viewer in (403 if banned): the ack with what they missed since `last_seq`, or their
        admission with the room's snapshot. The room's delivery already holds its events for them:
        nothing published from here on is lost."""
        res = resources()
        room = episode_room(request.episode_id)
        admission = await app[JOINS].admit(request.episode_id, sid, who)
        if request.last_seq is not None:
            seq = await res.bus.last_seq(room)
            missed = await res.bus.since(room, request.last_seq)
            if missed is not None:
                events = [{"event": e.event, "seq": e.seq, "payload": e.payload} for e in missed]
                return {"ok": True, "seq": max([seq, *(e.seq for e in missed)]), "missed": events}
        return admission

    def settle(sid: str, connection: Connection, episode_id: uuid.UUID, brand_id: uuid.UUID, who: Chatter) -> None:
        """The connection is in the episode's room from now on (again, after a reconnect or a gap)."""
        if connections.get(sid) is not connection:
            # It went away while its join was answered: nothing of it may stay counted or watching.
            raise Conflict("errors.room.closing")
        if episode_id not in connection.rooms:
            res = resources()
            watch_id = audience.start_watching(
                res.facts, episode_id=episode_id, chatter=who, node=app[FORWARDER].nodes.id, now=res.clock.now()
            )
            connection.rooms[episode_id] = Membership(brand_id, who, watch_id)
            app[TALLIES].arrived(episode_room(episode_id), who)
        connection.removed.pop(episode_id, None)

    @sio.on("leave")
    @answered
    async def leave(sid: str, data: Any) -> dict[str, Any]:
        connection = connection_of(sid)
        request = RoomRequest.model_validate(data)
        await leave_room(sid, connection, request.episode_id)
        return {"ok": True}

    async def why_not_in_room(connection: Connection, episode_id: uuid.UUID) -> Never:
        removed = connection.removed.get(episode_id)
        if removed is not None:  # the ban's reason, while it holds
            await refuse_if_banned(removed.brand_id, removed.chatter)
        raise Conflict("errors.room.join_first")

    async def refuse_if_banned(brand_id: uuid.UUID, who: Chatter) -> None:
        res = resources()
        async with res.database.transaction() as session:
            await chat.check_may_join(session, brand_id=brand_id, chatter=who, now=res.clock.now())

    def wire(name: str, model: type[RoomRequest], handler: RoomHandler) -> None:
        async def on_event(sid: str, data: Any) -> dict[str, Any]:
            connection = connection_of(sid)
            request = model.model_validate(data)
            membership = connection.rooms.get(request.episode_id)
            if membership is None:
                await why_not_in_room(connection, request.episode_id)
            call = RoomCall(sid, connection, membership, resources(), app[TALLIES], app)
            return {"ok": True, **(await handler(call, request) or {})}

        sio.on(name, answered(on_event))

    for name, (model, handler) in _ROOM_EVENTS.items():
        wire(name, model, handler)

    @sio.on("*")
    async def unknown(event: str, sid: str, *arguments: Any) -> dict[str, Any]:
        return refusal(BadRequest("errors.room.unknown_event", event=event), language_of(sid))


async def _principal(resources: Resources, token: str) -> Principal:
    claims = resources.signer.verify(token)
    if claims.kind == "guest":
        return accounts.guest_principal(guest_id=claims.subject, nickname=claims.name)
    async with resources.database.transaction() as session:
        return await accounts.load_principal(session, user_id=claims.subject)


# The chat's, the shop's, the polls' and giveaways' events declare themselves with `room_event`
# (imported last: they use this module).
from shopcast.web import chat_events as _chat_events  # noqa: E402, F401
from shopcast.web import giveaway_events as _giveaway_events  # noqa: E402
from shopcast.web import poll_events as _poll_events  # noqa: E402
from shopcast.web import shop_events as _shop_events  # noqa: E402
