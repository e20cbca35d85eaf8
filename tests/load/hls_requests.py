"""What one HLS request costs the app: CPU per segment, per playlist answered whole, per 304.

    .venv/bin/python -m tests.load.hls_requests [--rounds 2]

`shopcast demo` on 127.0.0.1 with a made-up live episode's files (a playlist of 120 one-second segments,
three 200 KB segments written just now) and no host, so the app's CPU time is the requests' alone; 50
clients with a connection each ask 3,000 times for one kind of answer, and the server's CPU time over
them (from /proc) is divided by 3,000. The HLS serving benchmark (hls_serving.py) measures the same
requests among everything a live show costs; this one isolates them, for a before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

import aiohttp

from tests.load.harness import cpu_seconds, machine, markdown_table
from tests.load.hls_show import Server

CLIENTS = 50
REQUESTS = 60  # per client and kind
SEGMENTS = 3
KINDS = ("segment", "playlist", "304")


def playlist(count: int) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
    lines += ["#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for n in range(count):
        lines += ["#EXTINF:1.000000,", f"seg{n:05d}.ts"]
    return "\n".join(lines) + "\n"


async def ask(http: aiohttp.ClientSession, base: str, kind: str, count: int, etag: str) -> None:
    for i in range(count):
        if kind == "segment":
            url, headers = f"{base}seg{i % SEGMENTS:05d}.ts", {}
        else:
            url, headers = f"{base}index.m3u8?_HLS_skip=YES", ({"If-None-Match": etag} if kind == "304" else {})
        async with http.get(url, headers=headers) as response:
            async for _ in response.content.iter_any():
                pass
            if response.status != (304 if kind == "304" else 200):
                raise RuntimeError(f"{url}: {response.status}")


async def measure(server: Server, base: str, rounds: int) -> dict[str, list[float]]:
    costs: dict[str, list[float]] = {kind: [] for kind in KINDS}
    sessions = [aiohttp.ClientSession() for _ in range(CLIENTS)]
    try:
        async with sessions[0].get(f"{base}index.m3u8?_HLS_skip=YES") as response:
            etag = response.headers["ETag"]
        for _ in range(rounds):
            for kind in KINDS:
                await asyncio.gather(*(ask(http, base, kind, 5, etag) for http in sessions))  # connections up
                before = cpu_seconds(server.process.pid)
                await asyncio.gather(*(ask(http, base, kind, REQUESTS, etag) for http in sessions))
                costs[kind].append((cpu_seconds(server.process.pid) - before) / (CLIENTS * REQUESTS))
    finally:
        for http in sessions:
            await http.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each kind (default 2)")
    options = parser.parse_args()
    if not 1 <= options.rounds <= 5:
        parser.error("rounds must be 1-5")
    server = Server(1, "hls-requests")
    try:
        episode = server.hls(str(uuid.uuid4()))
        episode.mkdir(parents=True)
        (episode / "index.m3u8").write_text(playlist(120))
        for n in range(SEGMENTS):
            (episode / f"seg{n:05d}.ts").write_bytes(os.urandom(200_000))
        began = time.monotonic()
        costs = asyncio.run(measure(server, f"{server.url}/live/{episode.name}/hls/", options.rounds))
    finally:
        server.end()
    print(f"HLS requests, app CPU per request: {machine('aiohttp')}\n")
    rows = [[kind, ", ".join(f"{c * 1000:.3f}" for c in costs[kind])] for kind in KINDS]
    print(markdown_table(["answer", "app CPU per request, ms (each round)"], rows))
    print(f"\n{options.rounds * len(KINDS)} measurements in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
