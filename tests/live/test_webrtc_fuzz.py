"""WHIP and WHEP fuzzed with real offers, mutated: a 201 or a 4xx with a reason, and nothing left behind.

Each case sends one offer (a real aiortc or browser-shaped one, with lines dropped, duplicated,
truncated, swapped, fields garbled, odd lines inserted, the text cut or grown past the size limit).
Whatever the answer, once its session is hung up or has timed out the app is as before: the
broadcast states and viewer count, and the connections, tasks, threads and open files of the
process. A forgotten peer connection keeps UDP sockets, a forgotten packager a thread, a forgotten
follower a task: each fails the case.

25 cases per backend in the normal suite (well under a minute); for a longer search run e.g.
`SHOPCAST_FUZZ_SCALE=16 .venv/bin/python -m pytest tests/live/test_webrtc_fuzz.py` (tests/fuzzing.py).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from shopcast.live.offers import MAX_SDP_BYTES
from shopcast.web.app import create_app
from shopcast.web.context import RESOURCES
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory
from tests.fuzzing import examples
from tests.live.broadcasting import SDP, Holdings, broadcast_of, go_live, status_of, weekly_show
from tests.live.webrtc_peers import Viewer, peer, publisher_offer

CONNECT_SECONDS = 1.5
OFF_AIR = {"on_air": False, "publisher_connected": False, "viewers": 0}
ON_AIR = {"on_air": True, "publisher_connected": True, "viewers": 0}

# A browser's offer as Chrome writes it (audio first, TCP candidates, trickle, transport-cc...):
# the addresses are loopback ports nobody listens on, the fingerprint is of no certificate.
BROWSER_OFFER = """v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS stream
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:3 1 udp 2113937151 127.0.0.1 9 typ host generation 0 network-cost 999
a=candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-cost 999
a=ice-ufrag:8hhY
a=ice-pwd:asd88fgpdd777uzjYhagZg8v
a=ice-options:trickle
a=fingerprint:sha-256 1C:4F:0D:9B:33:6A:F1:2E:77:C0:DE:AA:01:98:3B:5D:62:90:E4:C7:12:8F:AB:3E:55:09:D2:6C:41:B0:7A:EE
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a={direction}
a=msid:stream audio
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3735928559 cname:mAnDtcIRabcdEFGh
a=ssrc:3735928559 msid:stream audio
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:3 1 udp 2113937151 127.0.0.1 9 typ host generation 0 network-cost 999
a=ice-ufrag:8hhY
a=ice-pwd:asd88fgpdd777uzjYhagZg8v
a=ice-options:trickle
a=fingerprint:sha-256 1C:4F:0D:9B:33:6A:F1:2E:77:C0:DE:AA:01:98:3B:5D:62:90:E4:C7:12:8F:AB:3E:55:09:D2:6C:41:B0:7A:EE
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a={direction}
a=msid:stream video
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=ssrc-group:FID 2882400001 2882400002
a=ssrc:2882400001 cname:mAnDtcIRabcdEFGh
a=ssrc:2882400002 cname:mAnDtcIRabcdEFGh
""".replace("\n", "\r\n")

# Lines a confused or hostile client might slip in anywhere.
ODD_LINES = [
    "m=video",
    "m=video 9 UDP/TLS/RTP/SAVPF",
    "m=audio x UDP/TLS/RTP/SAVPF 111",
    "m=video 9 UDP/TLS/RTP/SAVPF 300",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN",
    "c=IN IP4",
    "a=setup:holdconn",
    "a=setup:",
    "a=fingerprint:sha-256",
    "a=fingerprint:sha-256 00",
    "a=fingerprint:md5 00:11",
    "a=ice-ufrag:",
    "a=ice-pwd:short",
    "a=mid:",
    "a=mid:0",
    "a=group:BUNDLE",
    "a=group:BUNDLE 9",
    "a=candidate:1 1 udp 1 127.0.0.1 0 typ host",
    "a=candidate:1 1 udp 1 127.0.0.1 99999 typ host",
    "a=candidate:1 1 udp 1 nonsense 9 typx host",
    "a=candidate:1",
    "a=end-of-candidates",
    "a=rtpmap:96",
    "a=rtpmap:96 VP8",
    "a=rtpmap:120 VP8/0",
    "a=fmtp:96",
    "a=fmtp:250 apt=96",
    "a=rtcp-fb:96",
    "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:4096 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:x",
    "a=ssrc:99999999999 cname:x",
    "a=ssrc:x",
    "a=ssrc-group:FID 1",
    "a=rtcp:x",
    "a=sendrecv",
    "a=inactive",
    "a=ice-lite",
    "a=max-message-size:x",
    "a=sctp-port:x",
    "a=msid-semantic:",
    "v=1",
    "",
    "=",
    "a=",
]

WEIRD_FIELDS = (
    st.sampled_from(
        ["", "0", "-1", "65536", "99999999999999999999", "x", "IN", "IP7", "sha-1", "actpass", "\x00", "é", ":", "/"]
    )
    | st.text(max_size=8)
    | st.just("a" * 300)
)
ANY_INDEX = st.integers(min_value=0, max_value=10_000)
MUTATIONS = st.one_of(
    st.tuples(st.just("drop"), ANY_INDEX),
    st.tuples(st.just("duplicate"), ANY_INDEX),
    st.tuples(st.just("truncate"), ANY_INDEX, st.integers(0, 40)),
    st.tuples(st.just("swap"), ANY_INDEX, ANY_INDEX),
    st.tuples(st.just("garble"), ANY_INDEX, ANY_INDEX, WEIRD_FIELDS),
    st.tuples(st.just("insert"), ANY_INDEX, st.sampled_from(ODD_LINES)),
    st.tuples(st.just("cut"), ANY_INDEX),
    st.tuples(st.just("grow"), st.sampled_from([MAX_SDP_BYTES - 64, MAX_SDP_BYTES, MAX_SDP_BYTES + 1, 300_000])),
    st.tuples(st.just("replace"), st.text(max_size=200)),
)


def mutate(sdp: str, mutation: tuple[Any, ...]) -> str:
    kind, *args = mutation
    lines = sdp.split("\r\n")
    at = args[0] % len(lines) if args and isinstance(args[0], int) else 0
    if kind == "drop":
        del lines[at]
    elif kind == "duplicate":
        lines.insert(at, lines[at])
    elif kind == "truncate":
        lines[at] = lines[at][: args[1]]
    elif kind == "swap":
        other = args[1] % len(lines)
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "garble":  # one field of the line, its separators kept
        parts = re.split(r"([ :/;=])", lines[at])
        fields = [i for i, part in enumerate(parts) if part and part not in " :/;="]
        if fields:
            parts[fields[args[1] % len(fields)]] = args[2]
        lines[at] = "".join(parts)
    elif kind == "insert":
        lines.insert(at, args[1])
    elif kind == "cut":
        return sdp[: args[0] % (len(sdp) + 1)]
    elif kind == "grow":
        padding = args[0] - len(sdp.encode())
        return sdp + ("a=x-padding:" + "p" * max(0, padding - 15) + "\r\n" if padding > 0 else "")
    elif kind == "replace":
        return "v=0\r\n" + args[0]
    return "\r\n".join(lines)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, backend: dict[str, Any], clock: SettableClock) -> Any:
    """The app with a short connect deadline, behind a "proxy" so each case has its own client address."""
    settings = make_settings(tmp_path, webrtc_connect_seconds=CONNECT_SECONDS, trust_forwarded_headers=True, **backend)
    return await aiohttp_client(create_app(settings, clock=clock))


@pytest.fixture
async def stage(client: Any, factory: Factory) -> AsyncIterator[dict[str, Any]]:
    """A scheduled episode to publish to, a live one to watch, and real offers to start from."""
    cast = await weekly_show(factory)
    host, (scheduled, live) = cast.host, cast.ids[:2]
    host_pc, _ = await go_live(client, host, live)
    publisher, viewer = peer(), Viewer(peer())
    offers = {
        "whip": [await publisher_offer(publisher), BROWSER_OFFER.replace("{direction}", "sendonly")],
        "whep": [await viewer.offer(), BROWSER_OFFER.replace("{direction}", "recvonly")],
    }
    await publisher.close()  # their candidates lead nowhere: no fuzzed session ever connects
    await viewer.pc.close()
    yield {"host": host, "scheduled": scheduled, "live": live, "offers": offers, "addresses": itertools.count(1)}
    await host_pc.close()


async def settled(client: Any, stage: dict[str, Any], baseline: Holdings) -> bool:
    if not Holdings.now(client).within(baseline):
        return False
    host = stage["host"]
    return (
        await broadcast_of(client, host, stage["scheduled"]) == OFF_AIR
        and await broadcast_of(client, host, stage["live"]) == ON_AIR
        and await status_of(client, stage["scheduled"]) == "scheduled"
    )


@settings(
    max_examples=examples(25),
    deadline=None,
    database=None,
    # A case that leaks spoils the ones after it: report the first failure as it was, unshrunk.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(["whip", "whep"]),
    base=st.sampled_from([0, 1]),
    mutations=st.lists(MUTATIONS, min_size=1, max_size=3),
    hang_up=st.booleans(),
)
async def test_mutated_offers_get_201_or_a_reason_and_leave_nothing_behind(
    client, stage, caplog, endpoint: str, base: int, mutations: list[tuple[Any, ...]], hang_up: bool
) -> None:
    caplog.set_level(logging.WARNING)
    if "baseline" not in stage:
        stage["baseline"] = Holdings.now(client)
    baseline = stage["baseline"]
    offer = stage["offers"][endpoint][base]
    for mutation in mutations:
        offer = mutate(offer, mutation)
    note(f"{endpoint} offer after {mutations}:\n{offer!r}")
    episode_id = stage["scheduled"] if endpoint == "whip" else stage["live"]
    address = f"198.51.100.{next(stage['addresses']) % 250 + 1}"  # never contacted: only a rate-limit key
    headers = {**SDP, "X-Forwarded-For": address}
    if endpoint == "whip":
        headers.update(stage["host"].headers)
    response = await client.post(f"/live/{episode_id}/{endpoint}", data=offer.encode(), headers=headers)

    assert response.status == 201 or 400 <= response.status < 500, (response.status, await response.text())
    event(f"{endpoint} {response.status}")
    if response.status == 201:
        if hang_up:
            deleted = await client.delete(response.headers["Location"], headers=stage["host"].headers)
            # 404: its connection had already failed, and the session closed itself.
            assert deleted.status in (200, 404), await deleted.text()
        # else: the session times out (nothing answers at the offer's addresses)
    else:
        problem = await response.json()
        assert problem["status"] == response.status and problem["detail"], problem
        # A refused offer built nothing, not even for a moment.
        broadcasts = client.app[RESOURCES].broadcasts
        assert broadcasts.open_connections() == baseline.connections
        assert not broadcasts.carries(uuid.UUID(stage["scheduled"]))

    try:
        async with asyncio.timeout(CONNECT_SECONDS * 6):
            while not await settled(client, stage, baseline):  # noqa: ASYNC110 - the API is polled
                await asyncio.sleep(0.05)
    except TimeoutError:
        host = stage["host"]
        raise AssertionError(
            f"not back to the start after {response.status}: {Holdings.now(client)} (before: {baseline}); "
            f"scheduled: {await status_of(client, stage['scheduled'])}, "
            f"{await broadcast_of(client, host, stage['scheduled'])}; "
            f"live: {await broadcast_of(client, host, stage['live'])}"
        ) from None
    gc.collect()  # an exception nobody retrieved is logged when its task is collected
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
