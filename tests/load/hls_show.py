"""A live show for the HLS benchmarks: `shopcast demo` on 127.0.0.1, its host publishing the WHEP benchmark's
stamped camera (1280x720, 30 fps) and a silent microphone over WHIP, so the server packages H.264 + AAC.

Used by tests/load/hls_latency.py (one browser viewer) and tests/load/hls_serving.py (many players).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path

from aiortc.mediastreams import AudioStreamTrack

from shopcast import demo
from tests.load.fanout_peers import Publisher, hold_bitrate
from tests.load.harness import Child, RunFailed, child_process, die_with_parent, free_port, run_commands

REPO = Path(__file__).resolve().parents[2]


# --- the host ------------------------------------------------------------------------------------


class HostWithSound(Publisher):
    """The WHEP benchmark's stamped camera, with a microphone in a silent room: HLS then carries AAC too."""

    async def offer(self) -> str:
        self.pc.addTrack(AudioStreamTrack())
        return await super().offer()

    async def sent_wall_clock(self) -> dict[int, float]:
        """When each frame was made, on the wall clock the browser's timestamps use."""
        offset = time.time() - time.monotonic()
        return {number: made + offset for number, made in self.camera.sent.items()}


def host_main(conn: Connection, parent: int, lifetime: float) -> None:
    child_process(parent, lifetime)
    hold_bitrate()
    with contextlib.suppress(PermissionError):
        os.nice(-5)  # in production the host's encoder runs on the host's computer: it must not starve here
    try:
        asyncio.run(_serve_host(conn))
    finally:
        sys.stdout.flush()
        os._exit(0)  # aiortc's encoder threads are not daemons


async def _serve_host(conn: Connection) -> None:
    await run_commands(conn, HostWithSound())


# --- the server ----------------------------------------------------------------------------------


class Server:
    """`shopcast demo` on 127.0.0.1 in a fresh data folder, WebRTC on loopback only."""

    def __init__(self, segment_seconds: float, name: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"shopcast-{name}-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SHOPCAST_DATA_DIR": str(self.folder / "data"),
            "SHOPCAST_SECRET_KEY": f"{name}-benchmark-secret-key-long-enough",
            "SHOPCAST_ICE_SERVERS": "[]",
            "SHOPCAST_WEBRTC_HOSTS": "127.0.0.1",
            "SHOPCAST_WEBRTC_PEER_NETWORKS": "127.0.0.0/8",
            "SHOPCAST_HLS_SEGMENT_SECONDS": f"{segment_seconds:g}",
        }
        self._log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shopcast", "demo", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if self.request("GET", "/healthz")[0] == 200:
                    break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RunFailed(f"the server did not start: see {self.folder / 'server.log'}")
            time.sleep(0.3)

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def hls(self, episode_id: str) -> Path:
        return self.folder / "data" / "hls" / episode_id

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # aiohttp's run_app shuts down cleanly on it
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def go_live(server: Server, host: Child) -> str:
    """The demo host publishes the demo show's next episode over WHIP; returns the episode's id."""
    login = json.dumps({"email": demo.ACCOUNTS[1][0], "password": demo.PASSWORD}).encode()
    status, body = server.request("POST", "/api/v1/auth/login", login, **{"Content-Type": "application/json"})
    if status != 200:
        raise RunFailed(f"the demo host could not sign in: {status} {body[:200]!r}")
    token = json.loads(body)["token"]
    status, body = server.request("GET", f"/api/v1/public/brands/{demo.BRAND_SLUG}/episodes")
    episode_id = json.loads(body)[0]["id"]
    offer = host.call("offer").encode()
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
    status, answer = server.request("POST", f"/live/{episode_id}/whip", offer, **headers)
    if status != 201:
        raise RunFailed(f"WHIP refused: {status} {answer[:200]!r}")
    host.call("accept", answer.decode())
    return episode_id


def playlist_segments(server: Server, episode_id: str) -> list[str]:
    status, body = server.request("GET", f"/live/{episode_id}/hls/index.m3u8")
    return re.findall(r"^(\S+\.ts)$", body.decode(), re.M) if status == 200 else []


def wait_for_segments(server: Server, episode_id: str, count: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while len(playlist_segments(server, episode_id)) < count:
        if time.monotonic() > deadline:
            raise RunFailed(f"the playlist did not list {count} segments within {within:.0f} s")
        time.sleep(0.3)
