"""The connections' long-lived objects are kept out of CPython's full collections while the audience
grows, and given back when it leaves (shopcast/web/collector.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from typing import Any

import pytest

from shopcast.web.collector import FEWEST_TO_THAW, CollectorPolicy
from tests.live.webrtc_peers import eventually
from tests.live_room import Viewer


async def test_a_growing_audience_is_frozen_and_a_leaving_one_collected(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shopcast.web.collector")
    before = gc.get_freeze_count()
    viewers = [Viewer() for _ in range(2 * FEWEST_TO_THAW + 10)]
    try:
        await asyncio.gather(*(v.connect(client, None) for v in viewers))
        # Once a second the app looks: this many new connections are worth a freeze.
        await eventually(lambda: gc.get_freeze_count() > before)
        leaving = viewers[: len(viewers) // 2 + 10]
        await asyncio.gather(*(v.sio.disconnect() for v in leaving))
        await eventually(lambda: any("connections gone" in r.getMessage() for r in caplog.records))
        gone = next(r.getMessage() for r in caplog.records if "connections gone" in r.getMessage())
        left, frozen = (int(n) for n in re.findall(r"\d+", gone)[:2])
        assert FEWEST_TO_THAW <= left <= len(leaving) and left >= frozen // 2 and frozen <= len(viewers), gone
    finally:
        await asyncio.gather(*(v.sio.disconnect() for v in viewers))
    # The test's client is still open: its objects stay frozen until the app stops.
    assert gc.get_freeze_count() > before


async def test_the_app_stopping_thaws_what_it_froze() -> None:
    before = gc.get_freeze_count()
    policy = CollectorPolicy(set)
    assert policy.step(set()) is None and gc.get_freeze_count() == before
    audience = {f"viewer-{n}" for n in range(60)}
    assert policy.step(audience) == "froze" and gc.get_freeze_count() > before
    assert policy.step(audience | {f"late-{n}" for n in range(20)}) is None  # 20 more: not worth a freeze
    # An audience turning over: each new half is frozen as it arrives; once half of those frozen
    # have left, what they left is collected and who is here frozen again.
    crowd = {f"crowd-{n}" for n in range(200)}
    assert policy.step(audience | crowd) == "froze"
    turned = {f"crowd-{n}" for n in range(100, 300)}
    assert policy.step(turned) == "thawed" and gc.get_freeze_count() > 0
    assert policy.step(turned) is None
    await policy.close()
    assert gc.get_freeze_count() == 0
