"""The app factory: the one place where engines, Redis, the bus and the signer are made and closed."""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.abc import AbstractResolver
from redis.asyncio import BlockingConnectionPool, Redis

from shopcast.catalog import stock
from shopcast.catalog.pictures import PictureStore
from shopcast.core import stopping, tasks
from shopcast.core.bus import Bus, InProcessBus, RedisBus
from shopcast.core.clock import Clock, SystemClock
from shopcast.core.db import Database, create_engine
from shopcast.core.facts import Facts
from shopcast.core.nodes import LocalNodes, Nodes, RedisNodes
from shopcast.core.presence import LocalPresence, Presence, RedisPresence
from shopcast.core.ratelimit import (
    MemoryRateLimiter,
    MemoryThrottle,
    RateLimiter,
    RedisRateLimiter,
    RedisThrottle,
    Throttle,
)
from shopcast.core.security import token_signer
from shopcast.core.settings import Settings
from shopcast.live import service as live
from shopcast.live.broadcasts import Broadcasts
from shopcast.live.network import IceServer, WebRtcNetwork
from shopcast.live.origins import LocalOrigins, Origins, RedisOrigins
from shopcast.live.ports import PortRange
from shopcast.live.recovery import end_shows_left_on_air
from shopcast.live.replicas import Replicas
from shopcast.outbox.senders import endpoint_rules, outbox_worker
from shopcast.web import forwarding, middleware, openapi, pages, sockets, unsubscribe
from shopcast.web.context import CLOCK, RESOLVER, RESOURCES, SECURED, SETTINGS, Resources
from shopcast.web.origin_link import HttpOriginLink
from shopcast.web.routes import (
    auth,
    catalog,
    chat,
    emails,
    giveaways,
    media,
    orders,
    pictures,
    polls,
    public,
    reminders,
    replay,
    reports,
    shop,
    shows,
    system,
    webhooks,
)

REDIS_CONNECTIONS = 200  # per process: rate limits, presence and the bus share them
APIS = [
    auth.api,
    shows.api,
    public.api,
    reminders.api,
    chat.api,
    catalog.api,
    pictures.api,
    shop.api,
    orders.api,
    polls.api,
    giveaways.api,
    emails.api,
    webhooks.api,
    reports.api,
    replay.api,
]


def create_app(
    settings: Settings, *, clock: Clock | None = None, resolver: AbstractResolver | None = None
) -> web.Application:
    """The app; `clock` and `resolver` (how webhook endpoints' names are looked up) default to the system's."""
    # With Redis other app processes may hold a client's session: requests for it are passed on to
    # them, and theirs taken from them (web/forwarding.py).
    several = settings.redis_url is not None
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            *([forwarding.relayed] if several else []),
            *([middleware.forwarded] if settings.trust_forwarded_headers else []),
            middleware.security_headers,
            # Outside `problems`, so a refusal to an allowed origin carries the CORS headers
            # its page needs to read the reason.
            middleware.origins,
            middleware.problems,
            *([forwarding.to_owner] if several else []),
            middleware.caller,
        ],
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[RESOLVER] = resolver
    app.cleanup_ctx.append(_resources)
    for api in APIS:
        api.install(app)
    media.install(app)
    pictures.install(app)
    sockets.install(app)  # after the resources' cleanup context: its rooms live inside it
    replay.install(app)  # its beats are written inside the resources' lifetime too
    document = system.api_document(APIS)
    app[SECURED] = openapi.secured_routes(document)
    system.install(app, document)
    pages.install(app)
    unsubscribe.install(app)
    return app


def webrtc_network(settings: Settings) -> WebRtcNetwork:
    return WebRtcNetwork(
        ice_servers=[IceServer(s.urls, s.username, s.credential) for s in settings.ice_servers],
        hosts=settings.webrtc_hosts,
        peer_networks=[ipaddress.ip_network(n, strict=False) for n in settings.webrtc_peer_networks],
        ports=PortRange(*settings.webrtc_ports) if settings.webrtc_ports is not None else None,
    )


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings, clock, resolver = app[SETTINGS], app[CLOCK], app[RESOLVER]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(create_engine(settings.effective_database_url, pool_size=settings.database_pool_size))
    redis = None
    if settings.redis_url:
        # Blocking: past the pool's size a request waits for a connection instead of failing with a 500.
        pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=10)
        redis = Redis(connection_pool=pool)
    bus: Bus
    limiter: RateLimiter
    presence: Presence
    throttle: Throttle
    if redis is not None:
        bus = RedisBus(redis, prefix=settings.redis_prefix, log_size=settings.bus_log_size)
        limiter = RedisRateLimiter(redis, clock, prefix=settings.redis_prefix)
        presence = RedisPresence(redis, prefix=settings.redis_prefix)
        throttle = RedisThrottle(redis, prefix=settings.redis_prefix)
    else:
        bus = InProcessBus(log_size=settings.bus_log_size)
        limiter = MemoryRateLimiter(clock)
        presence = LocalPresence()
        throttle = MemoryThrottle()
    signer = token_signer(settings, clock)
    nodes: Nodes = RedisNodes(redis, prefix=settings.redis_prefix) if redis is not None else LocalNodes()
    internal = app.get(forwarding.INTERNAL_LISTENER)
    app[forwarding.FORWARDER] = forwarder = forwarding.Forwarder(
        nodes,
        forwarding.relay_token(settings),
        internal_port=internal[1] if internal else None,
        max_message_bytes=settings.max_body_bytes,
    )
    network = webrtc_network(settings)
    network.install()

    async def end_abandoned(episode_id: uuid.UUID) -> None:
        async with database.transaction() as session:
            await live.end_abandoned(session, episode_id=episode_id, now=clock.now(), bus=bus)

    origins: Origins = LocalOrigins()
    link = None
    if redis is not None:
        origins = RedisOrigins(
            redis,
            prefix=settings.redis_prefix,
            # Where the others pull a show's video from when its host publishes here: this process's
            # own listener (workers share the public port); without one (an app in a test), the public.
            url=forwarding.listener_address(internal) if internal else settings.listening_url,
            lease_seconds=settings.origin_lease_seconds,
        )
        link = HttpOriginLink(signer)
    # The other processes hear from this one this often: well within a lease, and within the few
    # seconds after which a silent process's viewers stop counting (core/presence.py).
    tick = min(1.0, settings.origin_lease_seconds / 3)
    broadcasts = Broadcasts(
        network,
        bus=bus,
        grace_seconds=settings.publisher_grace_seconds,
        on_publisher_gone=end_abandoned,
        connect_seconds=settings.webrtc_connect_seconds,
        min_keyframe_interval=settings.keyframe_interval_seconds,
        hls_root=settings.data_dir / "hls",
        hls_segment_seconds=settings.hls_segment_seconds,
        clock=clock,
        origins=origins,
        link=link,
        linger_seconds=settings.relay_linger_seconds,
        poll_seconds=tick,
    )

    async def end_show_without_origin(episode_id: uuid.UUID) -> None:
        await end_abandoned(episode_id)
        await broadcasts.end(episode_id)  # its recording, left unfinished by a process that died, too

    replicas = Replicas(
        broadcasts,
        audience=RedisPresence(redis, prefix=settings.redis_prefix) if redis is not None else LocalPresence(),
        interval=tick,
        grace_seconds=settings.publisher_grace_seconds,
        end_abandoned=end_show_without_origin,
    )
    picture_store = PictureStore(
        settings.effective_pictures_dir, max_bytes=settings.picture_max_bytes, max_pixels=settings.picture_max_pixels
    )
    facts = Facts(database)
    app[RESOURCES] = Resources(
        settings,
        clock,
        database,
        bus,
        limiter,
        signer,
        broadcasts,
        presence,
        throttle,
        picture_store,
        endpoint_rules(settings, resolver),
        facts,
        replicas,
    )
    if redis is not None:
        replicas.start()
    recovery = None
    if redis is None:
        # One process: a show still marked live was left on air by a restart of this very process.
        recovery = asyncio.create_task(
            end_shows_left_on_air(
                database, broadcasts, bus=bus, clock=clock, grace_seconds=settings.publisher_grace_seconds
            ),
            name="end-shows-left-on-air",
        )
    # The outbox is sent from here unless `shopcast worker` runs apart (SHOPCAST_OUTBOX_WORKER=false).
    worker = outbox_worker(settings, database, clock, resolver) if settings.outbox_worker else None
    if worker is not None:
        worker.start()
    if internal is not None:
        await nodes.announce(forwarding.listener_address(internal))
    try:
        yield
    finally:
        await stopping.step("the forwarder", forwarder.close())  # first: others stop passing requests here
        if worker is not None:
            await stopping.step("the outbox's sends", worker.stop())
        await tasks.stop(recovery)
        await stopping.step("the replicas' watch", replicas.close())
        await stopping.step("the broadcasts", broadcasts.close())
        if link is not None:
            await stopping.step("the origin link", link.close())
        await stopping.step("presence", presence.close())
        await stopping.step("the stock news", stock.close_news(bus))
        await stopping.step("the facts' last writes", facts.close())
        await stopping.step("the bus", bus.close())
        if redis is not None:
            await stopping.step("Redis", redis.aclose())
        await stopping.step("the database", database.close())
