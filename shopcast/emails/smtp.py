"""Sending emails through an SMTP server (SHOPCAST_SMTP_URL), with aiosmtplib."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import unquote, urlsplit

import aiosmtplib

from shopcast.emails.compose import mime
from shopcast.outbox.schemas import Outgoing
from shopcast.outbox.worker import SendFailed

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


def _on_this_machine(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SmtpSender:
    """`smtp://[user:password@]host[:587]` upgrades to TLS with STARTTLS when the server offers it,
    and insists on it before signing in to a server on another machine (a password never crosses a
    network in clear); `smtps://…[:465]` speaks TLS from the start. Certificates are checked. Shopcast
    greets the server (EHLO) with the domain of its sender address: no look-up of this machine's name."""

    def __init__(self, url: str, *, mail_from: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.hostname = parts.hostname or ""
        self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.use_tls = parts.scheme == "smtps"
        self.start_tls: bool | None = None  # when offered
        if self.use_tls:
            self.start_tls = False
        elif self.username is not None and not _on_this_machine(self.hostname):
            self.start_tls = True
        self.mail_from = mail_from
        self.helo = mail_from.rpartition("@")[2]
        self.timeout = timeout

    async def send(self, message: Outgoing) -> str:
        email = mime(message, mail_from=self.mail_from)
        try:
            # One bound for the whole exchange (aiosmtplib's is per step): a claim outlasts it.
            async with asyncio.timeout(self.timeout):
                _, answer = await aiosmtplib.send(
                    email,
                    hostname=self.hostname,
                    port=self.port,
                    username=self.username,
                    password=self.password,
                    use_tls=self.use_tls,
                    start_tls=self.start_tls,
                    timeout=self.timeout,
                    local_hostname=self.helo,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusals = exc.recipients
            detail = "; ".join(f"{r.code} {r.message}" for r in refusals)
            # 5xx: the server says the address will never take mail; 4xx: try later.
            raise SendFailed(f"recipient refused: {detail}", permanent=all(r.code >= 500 for r in refusals)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(f"{exc.code} {exc.message}") from exc
        except TimeoutError as exc:
            raise SendFailed(f"the SMTP server did not answer within {self.timeout:g} s") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        return answer

    async def close(self) -> None:
        """Nothing stays open: each email has its own connection."""
