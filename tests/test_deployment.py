"""The scaled-out deployment for real, on 127.0.0.1: two `shopcast serve` replicas on PostgreSQL, Redis and
one data folder, behind Debian's nginx running deploy/nginx.conf (its addresses and paths made local).
Everything users do goes through the proxy: the host publishes, WHEP viewers landing on either replica
decode the host's pictures, chat crosses (a long-polling guest's requests too, whichever replica they
reach), the counts add up, HLS is served. Then a replica is killed outright in the middle of the show:
when it is not the host's, its guests come back through the proxy to the other one and miss no chat
message, its viewers watch again there, and the host notices nothing; when it is the host's, the
studio publishes again through the proxy within the grace period and the show goes on."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from shopcast.core.db import Database, create_engine
from shopcast.core.nodes import owner_of
from shopcast.web.forwarding import NODE_HEADER, VIA_HEADER
from tests.chat.test_two_nodes import free_port
from tests.conftest import CI, PostgresServer, fresh_database, until_healthy
from tests.factories import Factory, Staff
from tests.live.broadcasting import go_live, status_of
from tests.live.test_hls import segments
from tests.live.test_replicas import pictures, playlist_on, serve_process, tomorrows_show, watch
from tests.live.webrtc_peers import Viewer, eventually
from tests.live_room import Follower, send

ROOT = Path(__file__).resolve().parent.parent
NGINX = Path("/usr/sbin/nginx")  # Debian's, installed by `make test` (the Makefile's `nginx` target)
LEASE = 1.5  # s: a replica that stops renewing its claim to a show is noticed this long after
GRACE = 6.0  # s: what a host whose replica died has to publish again through the proxy


@dataclass
class Replica:
    url: str  # its own address: only for the test's bookkeeping, users go through the proxy
    process: asyncio.subprocess.Process
    node: str  # the node id its session ids begin with


@dataclass
class Deployment:
    url: str  # the proxy's: what users open (SHOPCAST_PUBLIC_URL)
    replicas: list[Replica]
    database_url: str
    cleanup: contextlib.AsyncExitStack  # what the test opens is closed with it, before the processes stop

    def replica(self, node: str) -> Replica:
        return next(r for r in self.replicas if r.node == node)

    def other(self, node: str) -> Replica:
        return next(r for r in self.replicas if r.node != node)


# --- nginx -------------------------------------------------------------------------------------------


def proxy_config(folder: Path, port: int, upstreams: list[int]) -> str:
    """deploy/nginx.conf with its files in `folder`, listening on 127.0.0.1:`port` in front of the replicas
    at 127.0.0.1:`upstreams`. Each change must find its line: a deploy/nginx.conf this no longer fits
    fails here rather than letting the test run a proxy of its own."""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    changes = [
        (r"^pid \S+;$", f"pid {folder / 'nginx.pid'};"),
        (r"^error_log \S+ (\w+);$", rf"error_log {folder / 'error.log'} \1;"),
        (r"^(\s+)access_log \S+;$", rf"\1access_log {folder / 'access.log'};"),
        (r"^http \{$", "http {\n" + temp),
        (r"^(\s+)listen 8080;$", rf"\1listen 127.0.0.1:{port};"),
        (r"^(\s+)server app1:8080 ", rf"\1server 127.0.0.1:{upstreams[0]} "),
        (r"^(\s+)server app2:8080 ", rf"\1server 127.0.0.1:{upstreams[1]} "),
    ]
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for pattern, replacement in changes:
        text, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert found == 1, f"deploy/nginx.conf has {found} lines matching {pattern!r}, this test adapts one"
    return text


def proxy_folder(folder: Path, port: int, upstreams: list[int]) -> Path:
    """`folder`, made, holding the adapted configuration (nginx.conf); nginx writes its files there too."""
    folder.mkdir()
    (folder / "nginx.conf").write_text(proxy_config(folder, port, upstreams))
    return folder


def error_log(folder: Path) -> str:
    log = folder / "error.log"
    return log.read_text() if log.exists() else "(no error log)"


async def start_proxy(nginx: Path, folder: Path) -> asyncio.subprocess.Process:
    """nginx in the foreground on `folder`'s configuration, as `daemon off;` runs it in a container."""
    return await asyncio.create_subprocess_exec(
        str(nginx), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"),
        "-g", "daemon off;",
    )  # fmt: skip


async def until_proxy_answers(process: asyncio.subprocess.Process, folder: Path, url: str) -> None:
    """Wait until nginx passes /healthz on to a replica; fail with its log if it exits first."""
    answering = asyncio.create_task(until_healthy(url))
    exited = asyncio.create_task(process.wait())
    await asyncio.wait([answering, exited], return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if not answering.done():
        answering.cancel()
        pytest.fail(f"nginx exited ({process.returncode}): {error_log(folder)}")
    answering.result()


async def stop(process: asyncio.subprocess.Process, how: signal.Signals) -> None:
    """Ask `process` to stop with `how`; kill it if it has not within 20 s."""
    if process.returncode is None:
        process.send_signal(how)
        try:
            async with asyncio.timeout(20):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture
def nginx() -> Path:
    """Debian's nginx, which `make test` installs; without it the test is skipped, saying so (failed with CI=true)."""
    if not NGINX.exists():
        reason = f"{NGINX} is missing (`make nginx` installs Debian's nginx)"
        if CI:
            pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return NGINX


@pytest.fixture
async def deployment(
    nginx: Path,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_server: PostgresServer,
    redis_only_url: str,
    redis_prefix: str,
) -> AsyncIterator[Deployment]:
    database_url = await fresh_database("postgresql", tmp_path, sqlite_template, postgres_server)
    proxy_port, ports = free_port(), [free_port(), free_port()]
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    shared = {
        "database_url": database_url,
        "redis_url": redis_only_url,
        "redis_prefix": redis_prefix,
        "public_url": proxy_url,
        "trust_forwarded_headers": "true",
        "origin_lease_seconds": LEASE,
        "publisher_grace_seconds": GRACE,
    }
    # Whatever happens, nothing is left running: what the test opened, then nginx, then the replicas.
    async with contextlib.AsyncExitStack() as cleanup:
        processes = []
        for port in ports:
            processes.append(await serve_process(port, tmp_path / "data", shared))
            cleanup.push_async_callback(stop, processes[-1], signal.SIGTERM)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        await until_healthy(*urls)
        async with aiohttp.ClientSession() as http:
            nodes = []
            for url in urls:
                async with http.get(f"{url}/healthz") as response:
                    nodes.append(response.headers[NODE_HEADER])
        folder = proxy_folder(tmp_path / "nginx", proxy_port, ports)
        proxy = await start_proxy(nginx, folder)
        cleanup.push_async_callback(stop, proxy, signal.SIGQUIT)  # nginx's graceful shutdown
        await until_proxy_answers(proxy, folder, proxy_url)
        replicas = [Replica(*replica) for replica in zip(urls, processes, nodes, strict=True)]
        yield Deployment(proxy_url, replicas, database_url, cleanup)


# --- what users do, through the proxy ----------------------------------------------------------------


@dataclass
class Watcher:
    """A WHEP viewer, and the address of its session (which names the node holding it)."""

    viewer: Viewer
    session: str


def browser(deployment: Deployment) -> aiohttp.ClientSession:
    """HTTP as the pages send it: to the proxy, from its origin (SHOPCAST_PUBLIC_URL's)."""
    return aiohttp.ClientSession(deployment.url, headers={"Origin": deployment.url})


async def watch_through(deployment: Deployment, http: aiohttp.ClientSession, episode_id: str) -> Watcher:
    viewer, session = await watch(http, episode_id)
    deployment.cleanup.push_async_callback(viewer.pc.close)
    return Watcher(viewer, session)


async def watch_until_both_serve(
    deployment: Deployment, http: aiohttp.ClientSession, episode_id: str
) -> dict[str, list[Watcher]]:
    """WHEP viewers through the proxy until each replica holds at least one (the proxy spreads them),
    by the node their session's address names."""
    held: dict[str, list[Watcher]] = {replica.node: [] for replica in deployment.replicas}
    while not all(held.values()):
        assert sum(map(len, held.values())) < 8, f"the proxy sent every viewer to one replica: {held}"
        watcher = await watch_through(deployment, http, episode_id)
        held[node_of(watcher.session)].append(watcher)
    return held


def node_of(session: str) -> str:
    """The node holding a WHIP or WHEP session, from its address (`/live/{id}/whep/{session}`)."""
    node = owner_of(session.rsplit("/", 1)[1])
    assert node is not None, session
    return node


async def follow_until_both_hold(
    deployment: Deployment, http: aiohttp.ClientSession, episode_id: str
) -> dict[str, list[Follower]]:
    """Guests in the live room through the proxy (WebSocket) until each replica holds at least one, by the
    node their engine.io session names."""
    held: dict[str, list[Follower]] = {replica.node: [] for replica in deployment.replicas}
    while not all(held.values()):
        assert sum(map(len, held.values())) < 8, f"the proxy sent every socket to one replica: {held}"
        follower = await follow(deployment, http, episode_id, f"Guest{sum(map(len, held.values())) + 1}")
        held[follower.sio.eio.sid[:8]].append(follower)
    return held


async def follow(
    deployment: Deployment,
    http: aiohttp.ClientSession,
    episode_id: str,
    nickname: str,
    *,
    polling: aiohttp.ClientSession | None = None,
) -> Follower:
    """A guest in the live room through the proxy, as the watch page: on WebSocket, or long-polling with
    the `polling` HTTP client where no WebSocket gets through."""
    follower = Follower(episode_id)
    follower.sio.reconnection_delay = 1.0  # a page's socket.io-client waits 0.5 to 1.5 s before its first try
    deployment.cleanup.push_async_callback(hang_up, follower)
    token = await guest_token(http, nickname)
    if polling is not None:
        follower.sio.eio.http = polling
    transports = ["polling"] if polling is not None else ["websocket"]
    await follower.connect(deployment.url, token, headers={"Origin": deployment.url}, transports=transports)
    async with asyncio.timeout(10):
        await follower.joined.wait()
    return follower


def recording_answers(answered: list[tuple[str, str | None]]) -> aiohttp.ClientSession:
    """An HTTP client that notes, for each answer, the node that gave it and the one that passed the
    request on to it, if any (`Shopcast-Node`, `Shopcast-Via`)."""

    async def on_answer(_session: Any, _context: Any, params: aiohttp.TraceRequestEndParams) -> None:
        answered.append((params.response.headers[NODE_HEADER], params.response.headers.get(VIA_HEADER)))

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_answer)
    return aiohttp.ClientSession(trace_configs=[trace])


async def hang_up(follower: Follower) -> None:
    with contextlib.suppress(Exception):
        await follower.sio.eio.disconnect(abort=True)


async def guest_token(http: aiohttp.ClientSession, nickname: str) -> str:
    async with http.post("/api/v1/auth/guest", json={"nickname": nickname}) as response:
        assert response.status == 201, await response.text()
        return (await response.json())["token"]


async def studio_count(
    http: aiohttp.ClientSession, host: Staff, episode_id: str, viewers: int, *, replicas: list[Replica]
) -> None:
    """The studio reads `viewers` WHEP viewers through the proxy, from each of `replicas` in turn."""
    answered: set[str] = set()
    async with asyncio.timeout(20):
        while answered != {replica.node for replica in replicas}:
            async with http.get(f"/api/v1/episodes/{episode_id}/broadcast", headers=host.headers) as response:
                assert response.status == 200, await response.text()
                if (await response.json())["viewers"] == viewers:
                    answered.add(response.headers[NODE_HEADER])
                else:
                    answered.clear()
                    await asyncio.sleep(0.2)


async def everyone_has(followers: list[Follower], sent: list[dict[str, Any]]) -> None:
    """Each follower's chat holds every message of `sent`, once and in order."""
    ids = [message["id"] for message in sent]

    def complete() -> bool:
        return all([m["id"] for m in f.messages if m["id"] in ids] == ids for f in followers)

    await eventually(complete)


@dataclass
class Show:
    """A show live through the proxy, watched on both replicas."""

    host: Staff
    episode_id: str
    studio: RTCPeerConnection  # the host's connection
    origin: Replica  # where the proxy sent the host
    watching: dict[str, list[Watcher]]  # by the node holding them

    @property
    def viewers(self) -> list[Viewer]:
        return [watcher.viewer for watcher in chain.from_iterable(self.watching.values())]


async def live_and_watched(deployment: Deployment, http: aiohttp.ClientSession) -> Show:
    """The host goes live through the proxy; viewers landing on either replica decode their pictures
    (the origin's from the host's connection, the other's pulled from the origin); the studio counts them
    all, whichever replica it asks."""
    database = Database(create_engine(deployment.database_url))
    try:
        host, episode_id = await tomorrows_show(Factory(http, database, datetime.now(UTC)))
    finally:
        await database.close()
    studio, session = await go_live(http, host, episode_id)
    deployment.cleanup.push_async_callback(studio.close)
    show = Show(host, episode_id, studio, deployment.replica(node_of(session)), {})
    show.watching = await watch_until_both_serve(deployment, http, episode_id)
    for viewer in show.viewers:
        await pictures(viewer)
    await studio_count(http, host, episode_id, len(show.viewers), replicas=deployment.replicas)
    return show


async def new_pictures(viewer: Viewer) -> None:
    """The viewer decodes pictures of the host's camera that reached it from now on."""
    viewer.skip_decoded("video")
    await pictures(viewer)


async def kill(replica: Replica) -> None:
    """SIGKILL: no goodbye to the proxy, the clients, Redis or the other replica."""
    replica.process.send_signal(signal.SIGKILL)
    assert await replica.process.wait() == -signal.SIGKILL


async def watch_again(deployment: Deployment, http: aiohttp.ClientSession, show: Show, lost: Replica) -> None:
    """The viewers of the `lost` replica see their picture stop; their page (watch/page.js) drops the
    session and opens a new one through the proxy, which lands on the replica still up, and they watch
    again. (A browser notices in seconds, aiortc only after half a minute: the test closes the connection
    as the page would once it noticed.)"""
    survivor = deployment.other(lost.node)
    for gone in show.watching.pop(lost.node):
        await gone.viewer.pc.close()
        watcher = await watch_through(deployment, http, show.episode_id)
        assert node_of(watcher.session) == survivor.node
        await pictures(watcher.viewer)
        show.watching[survivor.node].append(watcher)


async def test_a_replica_killed_mid_show_sends_its_viewers_to_the_other_through_the_proxy(
    deployment: Deployment,
) -> None:
    async with browser(deployment) as http:
        show = await live_and_watched(deployment, http)
        episode_id, origin = show.episode_id, show.origin

        async with http.post(f"/live/{episode_id}/relay") as refused:
            assert refused.status == 404  # the proxy keeps the pull between replicas to them

        # Chat crosses between the replicas, and the room counts the guests of both.
        rooms = await follow_until_both_hold(deployment, http, episode_id)
        # A guest whose network lets no WebSocket through long-polls: the proxy spreads its requests over
        # the replicas (no sticky sessions), the one not holding its session passes them on.
        answered: list[tuple[str, str | None]] = []
        polls = recording_answers(answered)
        deployment.cleanup.push_async_callback(polls.close)
        poller = await follow(deployment, http, episode_id, "Poller", polling=polls)
        everyone = [*chain.from_iterable(rooms.values()), poller]
        a, b = (rooms[replica.node][0] for replica in deployment.replicas)
        sent = [await send(a, episode_id, "hello from one replica"), await send(b, episode_id, "and from the other")]
        sent += [await send(poller, episode_id, f"from a long poll {n}") for n in range(3)]
        await everyone_has(everyone, sent)
        for follower in (a, b):
            await follower.wait_for("presence:count", viewers=len(everyone))
        # Every answer came from the replica holding the session; the other passed some on to it.
        assert {node for node, _ in answered} == {poller.sio.eio.sid[:8]}, answered
        assert any(via is not None for _, via in answered), answered

        # HLS, for the players that cannot use WebRTC: the origin records it in the shared data folder,
        # whichever replica the proxy asks serves it.
        playlist = await playlist_on(http, episode_id)
        async with http.get(f"/live/{episode_id}/hls/{segments(playlist)[0]}") as segment:
            assert segment.status == 200 and segment.content_type == "video/mp2t"

        # The replica that is not the origin dies. Its guests come back a few seconds later (later than a
        # page's first try, so that the messages below are surely sent while they are away).
        doomed = deployment.other(origin.node)
        moved = rooms[doomed.node]
        for follower in moved:
            follower.sio.reconnection_delay = 3.0
        await kill(doomed)
        await eventually(lambda: all(f.goodbye is not None for f in moved))  # the proxy hung up on them
        survivor_side = rooms[origin.node][0]
        during = [await send(survivor_side, episode_id, f"while they reconnect {n}") for n in range(3)]

        # Its guests come back through the proxy, to the survivor, and catch up from `last_seq`.
        await eventually(lambda: all(f.joins >= 2 and f.sio.connected for f in moved))
        assert {f.sio.eio.sid[:8] for f in moved} == {origin.node}
        for follower in moved:
            assert set(follower.recovered) >= {m["id"] for m in during}, "sent while it was away, so caught up"
        after = [await send(moved[0], episode_id, "back on the other replica")]
        await everyone_has(everyone, sent + during + after)

        await watch_again(deployment, http, show, doomed)
        for watcher in show.watching[origin.node]:
            await new_pictures(watcher.viewer)  # the origin's own viewers never stopped

        # The show goes on: the host never noticed, and the count forgets the dead replica's viewers.
        assert show.studio.connectionState == "connected"
        assert await status_of(http, episode_id) == "live"
        await studio_count(http, show.host, episode_id, len(show.viewers), replicas=[origin])

        # The viewers leave (the session's address, through the proxy): the count follows.
        for watcher in show.watching[origin.node]:
            async with http.delete(watcher.session) as response:
                assert response.status == 200, await response.text()
        await studio_count(http, show.host, episode_id, 0, replicas=[origin])


async def test_a_host_whose_replica_dies_publishes_again_through_the_proxy_and_the_show_goes_on(
    deployment: Deployment,
) -> None:
    async with browser(deployment) as http:
        show = await live_and_watched(deployment, http)
        doomed = show.origin
        survivor = deployment.other(doomed.node)
        await kill(doomed)

        # The studio's connection fails; it publishes again through the proxy, which sends it to the
        # replica still up: that one is the origin now.
        await show.studio.close()
        studio, session = await go_live(http, show.host, show.episode_id)
        deployment.cleanup.push_async_callback(studio.close)
        assert node_of(session) == survivor.node

        # The survivor's viewers kept their sessions: the picture that froze when their pull broke comes
        # back, now from the host's own connection there. The dead replica's viewers come back too.
        for watcher in show.watching[survivor.node]:
            await new_pictures(watcher.viewer)
        await watch_again(deployment, http, show, doomed)

        # Back within the grace period: once it has passed (and the dead replica's claim has lapsed),
        # the show is still live, and the studio counts the viewers of the replica still up.
        await asyncio.sleep(GRACE + LEASE)
        assert await status_of(http, show.episode_id) == "live"
        for viewer in show.viewers:
            await new_pictures(viewer)
        await studio_count(http, show.host, show.episode_id, len(show.viewers), replicas=[survivor])

        # The host ends the show (their new session's address, through the proxy): the viewers are told.
        async with http.delete(session, headers=show.host.headers) as response:
            assert response.status == 200, await response.text()
        assert await status_of(http, show.episode_id) == "ended"
        for viewer in show.viewers:
            await eventually(lambda v=viewer: v.pc.connectionState == "closed")  # the replica hung up on them
