"""What a request handler can reach: the app's resources, made once in the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractResolver

from shopcast.catalog.pictures import PictureStore
from shopcast.core.bus import Bus
from shopcast.core.clock import Clock
from shopcast.core.db import Database
from shopcast.core.facts import Facts
from shopcast.core.presence import Presence
from shopcast.core.ratelimit import RateLimiter, Throttle
from shopcast.core.security import TokenSigner
from shopcast.core.settings import Settings
from shopcast.live.broadcasts import Broadcasts
from shopcast.live.replicas import Replicas
from shopcast.webhooks.addresses import EndpointRules


@dataclass
class Resources:
    settings: Settings
    clock: Clock
    database: Database
    bus: Bus
    limiter: RateLimiter
    signer: TokenSigner
    broadcasts: Broadcasts
    presence: Presence
    throttle: Throttle
    pictures: PictureStore
    webhook_rules: EndpointRules
    facts: Facts
    replicas: Replicas


SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)  # type: ignore[type-abstract]
RESOURCES = web.AppKey("resources", Resources)
# How webhook endpoints' host names are looked up: None for the system's resolver (tests give a stub).
RESOLVER = web.AppKey("resolver", AbstractResolver | None)  # type: ignore[arg-type]
# (METHOD, path template) of the routes that need a token, as the API document says.
SECURED = web.AppKey("secured", frozenset)
