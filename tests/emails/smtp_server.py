"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives; it can be slow, refuse
the next few emails for now (451) or refuse an address for good (550)."""

from __future__ import annotations

import asyncio
import html
import re
import ssl
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    email: EmailMessage
    encrypted: bool
    user: str | None

    @property
    def message_id(self) -> str:
        return str(self.email["Message-ID"])

    def part(self, subtype: str) -> str:
        """The text or html part, with its lines ending in \n (the wire's \r\n read back)."""
        body = self.email.get_body(preferencelist=(subtype,))
        assert body is not None, f"no {subtype} part"
        return body.get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]

    def shown(self) -> str:
        """What the HTML part shows a reader: its text without the markup, spaces folded."""
        text = html.unescape(re.sub(r"<[^>]*>", " ", self.part("html")))
        return re.sub(r"[ \t\n]+", " ", text).strip()  # no-break spaces stay: they are the language's


@dataclass
class SmtpServer:
    delay: float = 0.0
    """Seconds the server takes to answer for an email it has taken (the sender does not know yet)."""
    refuse_next: int = 0
    """How many of the next emails are refused with 451 (try again later)."""
    unknown: set[str] = field(default_factory=set)
    """Addresses refused for good (550)."""
    received: list[Received] = field(default_factory=list)
    refused_ids: list[str] = field(default_factory=list)
    """The Message-ID of each email refused with 451."""
    tls: ssl.SSLContext | None = None
    """Offer STARTTLS and require it before anything else (with `implicit_tls`: TLS from the start)."""
    implicit_tls: bool = False
    login: tuple[str, str] | None = None
    """The user and password the server requires."""
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def refused(self) -> int:
        return len(self.refused_ids)

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1, on `port` (again after `stop`) or a free one."""
        loop = asyncio.get_running_loop()
        # A fixed name: aiosmtpd would otherwise look up this machine's.
        starttls = self.tls if not self.implicit_tls else None

        def protocol() -> SMTP:
            with warnings.catch_warnings():
                # With TLS from the start, aiosmtpd warns that it may sign in without TLS: it cannot.
                warnings.simplefilter("ignore", UserWarning)
                return smtp_protocol()

        def smtp_protocol() -> SMTP:
            return SMTP(
                self,
                hostname="smtp.test",
                loop=loop,
                tls_context=starttls,
                require_starttls=starttls is not None,
                auth_required=self.login is not None,
                auth_require_tls=not self.implicit_tls,  # aiosmtpd sees only STARTTLS's
                authenticator=self._authenticate if self.login is not None else None,
            )

        tls = self.tls if self.implicit_tls else None
        self._server = await loop.create_server(protocol, "127.0.0.1", port, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://127.0.0.1:{self.port}"

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, method: str, data: Any) -> AuthResult:
        given = (data.login.decode(), data.password.decode()) if isinstance(data, LoginPassword) else None
        if given != self.login:
            return AuthResult(success=False, handled=False)  # aiosmtpd answers 535
        return AuthResult(success=True, auth_data=given[0])

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        if address in self.unknown:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        email = BytesParser(policy=policy.default).parsebytes(raw)
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused_ids.append(str(email["Message-ID"]))
            return "451 4.3.0 not now, try again later"
        encrypted = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        user = session.auth_data if session.authenticated else None
        received = Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw, email, encrypted, user)  # type: ignore[arg-type]
        self.received.append(received)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued"

    async def wait_for(self, count: int, within: float = 15) -> list[Received]:
        """The emails received once there are at least `count`."""
        deadline = time.monotonic() + within
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} emails arrived, not {count}"
            await asyncio.sleep(0.02)
        return self.received

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def copies(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(r.message_id for r in self.received)
