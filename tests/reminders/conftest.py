"""Reminders at work: the real app with its outbox worker sweeping often, a real SMTP server on
127.0.0.1, a brand with a weekly show whose first episode is two days ahead, on the app's clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shopcast.core.security import Role
from shopcast.core.settings import Settings
from tests.conftest import SettableClock, make_settings
from tests.emails.conftest import OUTBOX, smtp  # noqa: F401  (the SMTP server's fixture)
from tests.emails.smtp_server import Received, SmtpServer
from tests.factories import Factory, Staff

SITE = "https://live.acme.test"  # where links in emails point (never opened: tests follow their path)
# The show's first episode: Tuesday 22 September 2026, 19:00 in Paris, two days after the tests' clock starts.
STARTS_AT = datetime.fromisoformat("2026-09-22T17:00:00+00:00")
FRENCH_PAGE = {"Accept-Language": "fr-FR,fr;q=0.9"}
QUIET_SECONDS = 0.3  # a dozen sweeps: long enough to say that nothing was sent


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any], smtp: SmtpServer) -> Settings:  # noqa: F811
    return make_settings(tmp_path, **backend, **OUTBOX, outbox_sweep_seconds=0.02, smtp_url=smtp.url, public_url=SITE)


def site_path(url: str) -> str:
    """A link of an email, as the test client asks for it (its path and query on the test server)."""
    assert url.startswith(f"{SITE}/"), url
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def unsubscribe_link(received: Received) -> str:
    """The one-click link of List-Unsubscribe, which the email's text names too."""
    header = str(received.email["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">"), header
    link = header[1:-1]
    assert link in received.part("plain")
    assert parse_qs(urlsplit(link).query)["token"]
    return link


async def quiet(smtp: SmtpServer, count: int) -> None:  # noqa: F811
    """Sweeps go by, and the server still has only `count` emails."""
    await asyncio.sleep(QUIET_SECONDS)
    assert len(smtp.received) == count, [r.email["Subject"] for r in smtp.received[count:]]


def subjects(received: list[Received]) -> list[str]:
    return [str(r.email["Subject"]) for r in received]


@dataclass
class Audience:
    """A brand with a weekly show, its staff, and the show's coming episodes."""

    client: Any
    factory: Factory
    clock: SettableClock
    manager: Staff
    host: Staff
    show: dict[str, Any]
    episodes: list[dict[str, Any]]

    @property
    def episode_id(self) -> str:
        return self.episodes[0]["id"]

    async def remind(
        self,
        email: str = "lea@example.com",
        episode_id: str | None = None,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> Any:
        """Ask for a reminder of the first episode (unless told), as the watch page does."""
        return await self.client.post(
            f"/api/v1/public/episodes/{episode_id or self.episode_id}/reminders",
            json={"email": email, "consent": True, **body},
            headers=headers or {},
        )

    async def reminded(self, email: str = "lea@example.com", **options: Any) -> dict[str, Any]:
        response = await self.remind(email, **options)
        assert response.status == 201, await response.text()
        return await response.json()

    async def act(self, action: str, episode_id: str | None = None, by: Staff | None = None) -> dict[str, Any]:
        """start, end or cancel an episode (the host starts and ends, the manager cancels, unless told)."""
        who = await self.signed_in(by or (self.manager if action == "cancel" else self.host))
        response = await self.client.post(
            f"/api/v1/episodes/{episode_id or self.episode_id}/{action}", headers=who.headers
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def move(self, starts_at: str, episode_id: str | None = None) -> dict[str, Any]:
        response = await self.client.patch(
            f"/api/v1/episodes/{episode_id or self.episode_id}",
            json={"starts_at": starts_at},
            headers=(await self.signed_in(self.manager)).headers,
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def brand(self, **changes: Any) -> Any:
        return await self.client.patch("/api/v1/brands/acme", json=changes, headers=self.manager.headers)

    async def signed_in(self, staff: Staff) -> Staff:
        """The staff member signed in again now: the app's clock may have moved past their token."""
        return await self.factory.sign_in(staff.email, staff.id)

    def at(self, when: datetime, **delta: float) -> None:
        """Put the app's clock at `when` plus `delta`."""
        self.clock.at = when + timedelta(**delta)


@pytest.fixture
async def audience(client: Any, factory: Factory, clock: SettableClock) -> Audience:
    await factory.brand("acme", "Acme")
    manager = await factory.staff("acme", Role.MANAGER)
    host = await factory.staff("acme", Role.HOST)
    show = await factory.show("acme", manager)
    episodes = await factory.episodes(show["id"], manager)
    assert episodes[0]["starts_at"] == "2026-09-22T17:00:00Z"
    return Audience(client, factory, clock, manager, host, show, episodes)


def text_of(email: EmailMessage, subtype: str = "plain") -> str:
    body = email.get_body(preferencelist=(subtype,))
    assert body is not None
    return body.get_content()  # type: ignore[attr-defined,no-any-return]
