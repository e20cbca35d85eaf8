"""How this app process pulls a show's stream from the process its host publishes to: WHEP over HTTP, at
the other's internal listener (SHOPCAST_INTERNAL_HOST, web/server.py), with a short-lived token of the
deployment's secret key that only another Shopcast process of the same deployment can make
(`POST /live/{episode_id}/relay`)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from urllib.parse import urljoin

import aiohttp

from shopcast.core.errors import Unauthorized
from shopcast.core.security import TokenSigner
from shopcast.live.origins import Origin
from shopcast.live.upstream import OriginRefused

log = logging.getLogger(__name__)

RELAY_AUDIENCE = "shopcast:relay"
RELAY_HEADER = "X-Shopcast-Relay"
TOKEN_SECONDS = 60
TIMEOUT_SECONDS = 10
HANG_UP_SECONDS = 2  # an origin that does not answer this fast is gone: its session went with it


def relay_path(episode_id: uuid.UUID) -> str:
    return f"/live/{episode_id}/relay"


def check_relay_token(signer: TokenSigner, token: str | None, episode_id: uuid.UUID) -> None:
    """401 unless `token` is another process's, for this show."""
    try:
        if signer.read_link(token or "", RELAY_AUDIENCE) == episode_id:
            return
    except Unauthorized:
        pass
    raise Unauthorized("errors.media.relay_only")


class HttpOriginLink:
    """One HTTP client for every pull of this process (made at the first, closed with the app)."""

    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer
        self._http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        return self._http

    def _headers(self, episode_id: uuid.UUID) -> dict[str, str]:
        token = self._signer.sign_link(RELAY_AUDIENCE, episode_id, timedelta(seconds=TOKEN_SECONDS))
        return {RELAY_HEADER: token}

    async def pull(self, origin: Origin, episode_id: uuid.UUID, offer: str) -> tuple[str, str]:
        headers = {**self._headers(episode_id), "Content-Type": "application/sdp"}
        url = urljoin(origin.url + "/", relay_path(episode_id).lstrip("/"))
        try:
            async with self._client().post(url, data=offer, headers=headers, allow_redirects=False) as answer:
                text = await answer.text()
                session = answer.headers.get("Location", "")
                if answer.status != 201 or not session.startswith(relay_path(episode_id) + "/"):
                    raise OriginRefused(f"{answer.status} {text[:200]}")
                return text, session
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OriginRefused(f"{url}: {exc!r}") from exc

    async def hang_up(self, origin: Origin, episode_id: uuid.UUID, session: str) -> None:
        try:
            url = urljoin(origin.url + "/", session.lstrip("/"))
            timeout = aiohttp.ClientTimeout(total=HANG_UP_SECONDS)
            async with self._client().delete(url, headers=self._headers(episode_id), timeout=timeout) as answer:
                await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The origin closes the session anyway once the connection is gone.
            log.info("could not hang up %s at %s: %r", session, origin.url, exc)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
