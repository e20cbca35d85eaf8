"""Settings from the environment (`SHOPCAST_*`); see docs/operations.md for each one."""

from __future__ import annotations

import ipaddress
import os
import secrets
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PORTS = {"http": 80, "https": 443}
SMTP_SCHEMES = ("smtp", "smtps")
# Standard Webhooks' example schedule: a failed delivery is tried again after each of these.
WEBHOOK_RETRY_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


class IceServerSetting(BaseModel):
    """One STUN or TURN server, as browsers take them."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class Settings(BaseSettings):
    # A refused value is never repeated: URLs here carry passwords (database, Redis, SMTP).
    model_config = SettingsConfigDict(env_prefix="SHOPCAST_", extra="ignore", hide_input_in_errors=True)

    data_dir: Path = Field(Path("data"), description="Folder for the SQLite database, secrets and media.")
    pictures_dir: Path | None = Field(
        None,
        description="Folder of the product pictures managers upload; default: `pictures` in the data folder. "
        "Replicas must share it (the same shared storage as HLS).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL; default: SQLite in the data folder. "
        "PostgreSQL: postgresql+asyncpg://user:pass@host/db",
    )
    database_pool_size: int = Field(
        20,
        ge=1,
        le=500,
        description="Database connections each app process keeps open; past them a request waits for one "
        "(30 s at most, then it is refused with 503 and Retry-After). "
        "Keep processes x pool size below the server's max_connections.",
    )
    redis_url: str | None = Field(None, description="redis://… to link several app processes; default: in-process bus.")
    redis_prefix: str = Field("shopcast:", description="Prefix of every Redis key and channel Shopcast uses.")
    secret_key: SecretStr | None = Field(
        None,
        description="Signs bearer tokens. Default: generated once and kept in the data folder. "
        "Set the same value on every app process.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (scheme://host[:port]) allowed to call the API from a browser, "
        "besides the app's own origin.",
    )
    public_url: str | None = Field(
        None,
        description="The address users open Shopcast at (https://live.example.com): its origin is the one browsers "
        "may call the API from, with SHOPCAST_ALLOWED_ORIGINS. Default: none; on loopback, "
        "http://127.0.0.1:PORT and http://localhost:PORT.",
    )
    trust_forwarded_headers: bool = Field(
        False, description="Trust X-Forwarded-For/-Proto/-Host from a reverse proxy in front of Shopcast."
    )
    trusted_proxy_hops: int = Field(
        1,
        ge=1,
        le=10,
        description="How many trusted proxies, each appending to X-Forwarded-For, stand in front of Shopcast "
        "(a CDN then nginx: 2); the client's address is that many entries from the end.",
    )
    host: str = Field("127.0.0.1", description="Address `shopcast serve` listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port `shopcast serve` listens on.")
    workers: int | None = Field(
        None,
        ge=1,
        le=256,
        description="App processes `shopcast serve` runs, sharing its port. Default: one per core when "
        "SHOPCAST_REDIS_URL is set, else one (`shopcast demo`: one). More than one needs SHOPCAST_REDIS_URL.",
    )
    internal_host: str = Field(
        "127.0.0.1",
        description="Address this app process takes requests from the others at, on a port of its own the system "
        "picks: a show's video pulled from the process its host publishes to, a Socket.IO or WebRTC session it "
        "holds asked of another process. One every other app process and replica reaches it at (compose: the "
        "service's name). Used only with SHOPCAST_REDIS_URL.",
    )
    max_body_bytes: int = Field(256 * 1024, ge=1024, description="Largest request body accepted.")
    picture_max_bytes: int = Field(
        10 * 1024 * 1024, ge=64 * 1024, le=100 * 1024 * 1024, description="Largest product picture upload accepted."
    )
    picture_max_pixels: int = Field(
        40_000_000,
        ge=1_000_000,
        le=100_000_000,
        description="Most pixels (width x height) of an uploaded picture, read from its header before it is decoded.",
    )
    token_ttl_minutes: int = Field(12 * 60, ge=1, description="How long a staff sign-in lasts.")
    guest_token_ttl_minutes: int = Field(7 * 24 * 60, ge=1, description="How long a guest viewer's token lasts.")
    login_max_attempts: int = Field(
        10,
        ge=1,
        description="Sign-in attempts allowed per email from one client address and window "
        "(five times as many per address, whatever the email).",
    )
    login_max_attempts_per_account: int = Field(
        100,
        ge=1,
        description="Sign-in attempts allowed per email from all addresses together and window: "
        "slows a guessing attack spread over many addresses.",
    )
    login_window_seconds: int = Field(300, ge=1, description="Window of the sign-in attempt limit.")
    guest_max_per_window: int = Field(30, ge=1, description="Guest tokens one client address may get per window.")
    schedule_weeks: int = Field(8, ge=1, le=104, description="How many weeks ahead episodes are generated.")
    bus_log_size: int = Field(1000, ge=10, description="Events kept per room for clients catching up.")
    chat_events_per_second: float = Field(
        3.0, gt=0, le=1000, description="Live-room events one connection may send per second, on average."
    )
    chat_event_burst: int = Field(10, ge=1, le=10000, description="Live-room events one connection may send at once.")
    event_loop: Literal["asyncio", "uvloop"] = Field(
        "asyncio",
        description="The event loop `shopcast serve` runs on: asyncio's own, or uvloop's (faster writes to "
        "thousands of sockets; needs the uvloop package: `pip install shopcast[uvloop]`).",
    )
    join_snapshot_seconds: float = Field(
        0.25,
        ge=0,
        le=10,  # rooms.REPLAY_SECONDS: the events after an older snapshot are no longer kept
        description="How long a room's join snapshot is shared by the viewers joining, before it is read again "
        "(the events since reach each viewer after its snapshot); 0 reads it for every batch of joins.",
    )
    join_queue_most: int = Field(
        3000,
        ge=1,
        le=1_000_000,
        description="Joins one app process answers at once at most; a join past them is refused at once as busy "
        "(503, with `retry_after`: when to come back, from the pace joins are answered at, spread so that "
        "the viewers refused together come back apart).",
    )
    cart_hold_minutes: int = Field(
        10, ge=1, le=24 * 60, description="How long units added to a cart during a live stay set aside for the viewer."
    )
    replay_beat_seconds: int = Field(
        15,
        ge=1,
        le=300,
        description="How often a replay viewer's player says it is still playing: the replay's watch time is "
        "counted in these steps, and a beat much sooner than this after the last one is refused.",
    )
    ice_servers: list[IceServerSetting] = Field(
        default_factory=list,
        description="STUN/TURN servers for WebRTC, as a JSON list of "
        '{"urls": [...], "username": ..., "credential": ...} objects, as browsers take them. '
        "Default: none (no server is ever contacted unasked).",
    )
    webrtc_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"],
        description="Comma-separated addresses WebRTC gathers and announces as host candidates "
        "(this machine's address that viewers and hosts can reach).",
    )
    webrtc_ports: Annotated[tuple[int, int] | None, NoDecode] = Field(
        None,
        description="UDP ports WebRTC binds, as FIRST-LAST (40000-40099): one per host or viewer session and "
        "address in SHOPCAST_WEBRTC_HOSTS, shared by the processes of one machine (or container). "
        "Default: any the system picks.",
    )
    webrtc_peer_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["0.0.0.0/0", "::/0"],
        description="Comma-separated networks (CIDR) whose candidates are accepted from browsers; others are dropped.",
    )
    publisher_grace_seconds: float = Field(
        30, ge=1, description="How long a host's lost connection may take to come back before the show ends."
    )
    origin_lease_seconds: float = Field(
        6,
        ge=1,
        le=120,
        description="How long a process's claim to carry a show's video (its origin, in Redis) lasts unless "
        "renewed, which it is every third of this: a process that crashed is noticed this long after.",
    )
    relay_linger_seconds: float = Field(
        10,
        ge=0,
        le=600,
        description="How long a process keeps pulling a show's video from its origin after its last WHEP "
        "viewer left, for viewers who come straight back.",
    )
    webrtc_connect_seconds: float = Field(
        20,
        gt=0,
        le=300,
        description="How long a new WHIP or WHEP session may take to connect (ICE and DTLS) before it is closed "
        "and everything it held is released.",
    )
    hls_segment_seconds: float = Field(
        1.0,
        ge=1.0,
        le=6.0,
        description="Length of HLS segments: HLS viewers play about two segments behind the newest one, so "
        "shorter is closer to live; longer means fewer files and playlist lines, and fewer keyframes.",
    )
    watch_preview_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="How long a watch page's link preview (title, time, picture) is kept after it was looked up: "
        "an audience arriving together costs one lookup per episode and period, and the tags may lag a change "
        "by that much. 0: looked up for every page (still once for requests arriving together).",
    )
    keyframe_interval_seconds: float = Field(
        1.0, ge=0.1, description="At most one keyframe asked of the host per interval, whatever viewers ask."
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="Where emails are sent: smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 "
        "(TLS). Default: none; each email is kept in the data folder (mail/) and listed on the manager page.",
    )
    smtp_timeout_seconds: float = Field(
        30, gt=0, le=600, description="How long one email may take to reach the SMTP server before it is tried again."
    )
    mail_from: str = Field(
        "shopcast@localhost",
        description="The address emails are sent from (shown with the brand's name), one the SMTP server may send as.",
    )
    webhooks_allow_http: bool = Field(
        False,
        description="Accept webhook endpoints at http:// addresses (tests, `shopcast demo`); otherwise only https://.",
    )
    webhooks_allow_private: bool = Field(
        False,
        description="Accept webhook endpoints at loopback, private, link-local and other non-public addresses "
        "(tests, `shopcast demo`).",
    )
    webhooks_timeout_seconds: float = Field(
        15,
        gt=0,
        le=120,
        description="How long one webhook delivery may take (connecting, sending, the answer) before it failed "
        "and is tried again.",
    )
    webhooks_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(WEBHOOK_RETRY_SECONDS),
        description="Comma-separated waits, in seconds, before each new attempt at a failed webhook delivery "
        "(one more attempt than waits); default: the Standard Webhooks schedule, 5 s to 24 h over 3 days.",
    )
    webhooks_secret_grace_hours: float = Field(
        24,
        ge=0,
        le=30 * 24,
        description="How long an endpoint's previous secret still signs its deliveries, beside the new one, "
        "after a rotation.",
    )
    outbox_worker: bool = Field(
        True,
        description="Send the outbox (emails, webhooks) from each app process; false when `shopcast worker` "
        "runs on its own.",
    )
    outbox_batch_size: int = Field(
        20, ge=1, le=1000, description="Messages one worker takes at once and sends at the same time."
    )
    outbox_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often an idle worker looks for messages that are due."
    )
    outbox_claim_seconds: float = Field(
        300,
        gt=0,
        description="How long a worker may keep a message it took before another worker takes it again "
        "(a worker that crashed); longer than SHOPCAST_SMTP_TIMEOUT_SECONDS.",
    )
    outbox_max_attempts: int = Field(12, ge=1, le=100, description="Attempts before a message is given up (dead).")
    outbox_retry_seconds: float = Field(
        30, gt=0, description="Wait before the first retry of a failed message; it doubles with each attempt."
    )
    outbox_retry_max_seconds: float = Field(6 * 3600, gt=0, description="The longest wait between two attempts.")
    outbox_sweep_seconds: float = Field(
        10,
        gt=0,
        le=300,
        description="How often the outbox worker looks for emails that have come due: episode reminders, "
        "\"we're live\" and cancellation notices, abandoned-cart follow-ups, giveaway winners' claim links.",
    )

    @field_validator("allowed_origins", "webrtc_hosts", "webrtc_peer_networks", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("internal_host")
    @classmethod
    def _reachable_address(cls, value: str) -> str:
        if value.strip() in ("", "0.0.0.0", "::"):
            raise ValueError("name the address the other app processes reach this one at, not every address")
        return value.strip()

    @field_validator("webrtc_ports", mode="before")
    @classmethod
    def _port_range(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        first, dash, last = value.partition("-")
        if not dash or not first.strip().isdigit() or not last.strip().isdigit():
            raise ValueError(f"{value!r} is not a port range FIRST-LAST, such as 40000-40099")
        return int(first), int(last)

    @field_validator("webrtc_ports")
    @classmethod
    def _ports_in_order(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not 1024 <= value[0] <= value[1] <= 65535:
            raise ValueError("the ports go from FIRST to LAST, both from 1024 to 65535")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s)://host[:port] address")
        _ = parts.port  # ValueError for a port out of range
        return value.strip().rstrip("/")

    @field_validator("webrtc_peer_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @field_validator("webrtc_hosts")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            ipaddress.ip_address(address)
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        # The reason never repeats the URL: it holds a password.
        parts = urlsplit(value.get_secret_value().strip())
        if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
            raise ValueError("use smtp://[user:password@]host[:port] or smtps://…")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("the port is not a number from 1 to 65535") from None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address or any(c.isspace() for c in address):
            raise ValueError(f"{value!r} is not an email address")
        return address

    @field_validator("webhooks_retry_seconds", mode="before")
    @classmethod
    def _waits(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhooks_retry_seconds")
    @classmethod
    def _waits_in_range(cls, value: list[float]) -> list[float]:
        if len(value) > 50:
            raise ValueError("at most 50 waits")
        if any(not 0 <= wait <= 7 * 24 * 3600 for wait in value):
            raise ValueError("each wait is from 0 to 604800 seconds (a week)")
        return value

    @field_validator("outbox_claim_seconds")
    @classmethod
    def _claim_outlasts_a_send(cls, value: float, info: ValidationInfo) -> float:
        # A claim that ends while its message is still being sent would let a second worker send it too.
        for name in ("smtp_timeout_seconds", "webhooks_timeout_seconds"):
            timeout = info.data.get(name)
            if timeout is not None and value <= timeout:
                raise ValueError(f"must be longer than SHOPCAST_{name.upper()} ({timeout:g})")
        return value

    @property
    def public_origin(self) -> str | None:
        """The origin of SHOPCAST_PUBLIC_URL as browsers write it: lower case, no default port."""
        if self.public_url is None:
            return None
        parts = urlsplit(self.public_url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = "" if parts.port in (None, DEFAULT_PORTS[parts.scheme]) else f":{parts.port}"
        return f"{parts.scheme}://{host}{port}"

    @property
    def site_url(self) -> str:
        """Where links in emails point: SHOPCAST_PUBLIC_URL, else this machine's address and port (`make run`)."""
        return self.public_url if self.public_url is not None else self.listening_url

    @property
    def listening_url(self) -> str:
        """http://HOST:PORT of `shopcast serve`, with 127.0.0.1 for "every address"."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def effective_pictures_dir(self) -> Path:
        return self.pictures_dir if self.pictures_dir is not None else self.data_dir / "pictures"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'shopcast.db').resolve()}"

    def signing_key(self) -> str:
        """The configured secret, or one generated on first use and kept in the data folder."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created with 0600 so only the service account can read it; O_EXCL so two
        # processes starting together cannot each write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as file:
            file.write(key)
        return key
