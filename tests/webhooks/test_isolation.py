"""A slow endpoint never holds the others' deliveries: one endpoint takes at most a quarter of the
worker's batch at a time, so the rest of the batch goes to the others meanwhile."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.settings import Settings
from tests.catalog.conftest import Shop
from tests.conftest import make_settings
from tests.webhooks.conftest import WEBHOOKS, Hooks
from tests.webhooks.receiver import HANG, Receiver

TIMEOUT = 5.0


@pytest.fixture
def settings(tmp_path: Path, backend: dict[str, Any]) -> Settings:
    # A batch of 4: without a share per endpoint, the slow one's 4 deliveries would fill it.
    return make_settings(tmp_path, **backend, **{**WEBHOOKS, "webhooks_timeout_seconds": TIMEOUT})


async def test_a_slow_endpoint_does_not_delay_another_s_delivery(shop: Shop, hooks: Hooks, receiver: Receiver) -> None:
    slow = await hooks.add(receiver.url("slow"), ["order.created"])
    receiver.answer("slow", HANG, HANG, HANG, HANG)
    for number in range(4):
        await shop.buy(await shop.guest(f"Buyer{number}"), f"buyer-{number}")
    await receiver.wait(lambda: receiver.on("slow"))
    fast = await hooks.add(receiver.url("fast"), ["order.created"])

    asked = time.monotonic()
    await hooks.test(fast)
    [taken] = await receiver.wait(lambda: receiver.accepted("fast"))
    assert taken.at - asked < 2  # not after the slow endpoint's timeout
    held = receiver.on("slow")
    assert len(held) == 1 and held[0].answered is None  # still waiting for its first answer
    assert taken.at < held[0].at + TIMEOUT

    receiver.let_go()
    deliveries = await hooks.settled(slow, 4, states=("sent", "failed"))
    assert len(deliveries) == 4
