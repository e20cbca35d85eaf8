"""Deliveries to the brand's shop, through the real app and a real receiver on 127.0.0.1 that checks each
signature with the `standardwebhooks` library: an event arrives once its cause is committed, is tried
again on the webhooks' schedule after a 500 and a timeout, and the shop accepts it once by its
webhook-id; a rotated secret and the previous one both sign for a while; a replay sends the same id;
410 Gone turns the endpoint off."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import WebhookVerificationError

from shopcast.core.settings import Settings
from shopcast.outbox.senders import retry_policies
from tests.catalog.conftest import Shop
from tests.conftest import SettableClock
from tests.webhooks.conftest import Hooks, eventually
from tests.webhooks.receiver import HANG, Receiver


def waits(delivery: dict[str, Any], clock: SettableClock) -> float:
    """Seconds from now to the delivery's next attempt."""
    return (datetime.fromisoformat(delivery["next_try_at"]) - clock.now()).total_seconds()


async def only_delivery(hooks: Hooks, endpoint: dict[str, Any], **expected: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        found = await hooks.deliveries(endpoint)
        return found[0] if len(found) == 1 and expected.items() <= found[0].items() else None

    return await eventually(check)


async def test_an_order_s_events_reach_the_shop_signed_once_each_after_a_500_and_a_timeout(
    shop: Shop, hooks: Hooks, receiver: Receiver, clock: SettableClock
) -> None:
    endpoint = await hooks.add(receiver.url("orders"), ["order.created", "order.paid"], description="Our shop")
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    receiver.answer("orders", 500, HANG)

    order = await shop.buy(await shop.guest(), "lea-1")
    first = await only_delivery(hooks, endpoint, state="failed", attempts=1)
    assert first["event"] == "order.created" and first["about"] == f"order:{order['id']}"
    assert first["last_error"].startswith("500 Internal Server Error")
    assert 4.5 <= waits(first, clock) <= 5.5  # the schedule's first wait, within its jitter

    clock.advance(seconds=6)
    second = await only_delivery(hooks, endpoint, state="failed", attempts=2)
    assert second["last_error"] == "no answer within 1 s"
    assert 270 <= waits(second, clock) <= 330

    clock.advance(seconds=330)
    sent = await only_delivery(hooks, endpoint, state="sent", attempts=3)
    assert [(t["number"], t["ok"], t["status_code"]) for t in sent["tries"]] == [
        (1, False, 500),
        (2, False, None),
        (3, True, 200),
    ]
    assert sent["tries"][1]["duration_ms"] >= 1000
    assert sent["tries"][2]["detail"] == f"200 OK: answered 200 to {sent['id']}"

    await shop.move(order["id"], "paid")
    await hooks.settled(endpoint, 2)
    # Every attempt carried the same id and body, each signed so the shop could check it.
    assert [r.id for r in receiver.on("orders")] == [sent["id"]] * 3 + [receiver.on("orders")[3].id]
    bodies = [r.verify(secret) for r in receiver.on("orders")]
    assert bodies[0] == bodies[1] == bodies[2]
    accepted = receiver.accepted("orders")
    assert len({r.id for r in accepted}) == len(accepted) == 2  # each event taken once
    created, paid = (r.verify(secret) for r in accepted)
    assert (created["type"], paid["type"]) == ("order.created", "order.paid")
    assert created["timestamp"] == "2026-09-20T10:00:00Z"  # when the order was placed, not sent
    assert created["data"]["id"] == order["id"] and created["data"]["status"] == "pending_payment"
    assert paid["data"]["status"] == "paid" and paid["data"]["number"] == order["number"]
    assert accepted[0].headers["Content-Type"] == "application/json"
    assert accepted[0].headers["webhook-signature"].startswith("v1,")

    view = await hooks.call("GET", f"{endpoint['id']}/deliveries/{sent['id']}")
    assert view["payload"] == created


async def test_an_event_is_sent_only_to_the_endpoints_that_listen_to_it(
    shop: Shop, hooks: Hooks, receiver: Receiver
) -> None:
    paid_only = await hooks.add(receiver.url("paid"), ["order.paid"])
    everything = await hooks.add(receiver.url("all"))
    off = await hooks.add(receiver.url("off"), enabled=False)
    order = await shop.buy(await shop.guest(), "lea-1")
    await shop.move(order["id"], "cancelled")
    await hooks.settled(everything, 2)
    assert sorted(d["event"] for d in await hooks.deliveries(everything)) == ["order.cancelled", "order.created"]
    assert await hooks.deliveries(paid_only) == [] and await hooks.deliveries(off) == []
    assert receiver.on("paid") == receiver.on("off") == []


async def test_a_refused_order_sends_nothing(shop: Shop, hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.add(receiver.url())
    lea, tom = await shop.guest("Lea"), await shop.guest("Tom")
    # Lea's three M are taken only at checkout; Tom buys one meanwhile.
    assert (await shop.add(lea, "M", 3, live=False)).status == 201
    tom_order = await shop.buy(tom, "tom-1", "M")
    response = await shop.order(lea, "lea-1")
    assert response.status == 409  # written with its event, rolled back whole
    [delivery] = await hooks.settled(endpoint, 1)
    assert delivery["about"] == f"order:{tom_order['id']}"
    assert [r.json["data"]["id"] for r in receiver.received] == [tom_order["id"]]


async def test_during_the_grace_after_a_rotation_both_secrets_sign_then_only_the_new_one(
    shop: Shop, hooks: Hooks, receiver: Receiver, clock: SettableClock
) -> None:
    endpoint = await hooks.add(receiver.url())
    old = endpoint["secret"]
    rotated = await hooks.call("POST", f"{endpoint['id']}/secret")
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated["previous_secret_until"] == "2026-09-21T10:00:00Z"  # SHOPCAST_WEBHOOKS_SECRET_GRACE_HOURS
    shown = await hooks.call("GET", endpoint["id"])
    assert "secret" not in shown and shown["previous_secret_until"] == rotated["previous_secret_until"]

    test = await hooks.test(endpoint)
    assert test["event"] == "webhook.test" and test["state"] == "pending"
    [during] = await receiver.wait(lambda: receiver.accepted("shop"))
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    # The shop that still has the old secret and the one that has the new both accept it.
    assert during.verify(old) == during.verify(new)
    assert during.verify(new)["data"] == {
        "endpoint_id": endpoint["id"],
        "brand": "acme",
        "message": "A test event from Shopcast: nothing happened in the shop.",
    }

    clock.advance(hours=25)
    buyer = await shop.guest()  # the manager's sign-in is over by now; a buyer's lasts a week
    await shop.buy(buyer, "lea-1")
    after = (await receiver.wait(lambda: receiver.accepted("shop")[1:]))[0]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.verify(new)["type"] == "order.created"
    with pytest.raises(WebhookVerificationError):
        after.verify(old)


async def test_a_replay_sends_the_same_webhook_id_again_even_once_given_up(
    shop: Shop, hooks: Hooks, receiver: Receiver, clock: SettableClock
) -> None:
    endpoint = await hooks.add(receiver.url())
    receiver.answer("shop", 503, 503, 503, 503)
    await shop.buy(await shop.guest(), "lea-1")
    for attempt in range(1, 4):
        await only_delivery(hooks, endpoint, state="failed", attempts=attempt)
        clock.advance(hours=1)
    dead = await only_delivery(hooks, endpoint, state="dead", attempts=4)  # the schedule's 3 waits, 4 attempts
    assert dead["next_try_at"] is None and dead["last_error"].startswith("503 Service Unavailable")

    replayed = await hooks.call("POST", f"{endpoint['id']}/deliveries/{dead['id']}/replay", status=202)
    assert replayed["state"] == "pending" and replayed["id"] == dead["id"]
    sent = await only_delivery(hooks, endpoint, state="sent", attempts=5)
    assert [t["ok"] for t in sent["tries"]] == [False] * 4 + [True]

    again = await hooks.call("POST", f"{endpoint['id']}/deliveries/{sent['id']}/replay", status=202)
    assert again["state"] == "pending"
    await only_delivery(hooks, endpoint, state="sent", attempts=6)
    taken = receiver.accepted("shop")
    # The shop got the same delivery twice, and can tell by its id.
    assert [r.id for r in taken] == [sent["id"]] * 2 and taken[0].body == taken[1].body


async def test_an_endpoint_that_answers_410_gone_is_turned_off(shop: Shop, hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.add(receiver.url())
    receiver.answer("shop", 410)
    order = await shop.buy(await shop.guest(), "lea-1")
    dead = await only_delivery(hooks, endpoint, state="dead", attempts=1)
    assert dead["tries"][0]["status_code"] == 410
    assert "the endpoint wants no more: it is turned off" in dead["last_error"]
    off = await hooks.call("GET", endpoint["id"])
    assert off["enabled"] is False and "410 Gone" in off["disabled_reason"]

    await shop.move(order["id"], "paid")  # nothing more is queued for it
    assert len(await hooks.deliveries(endpoint)) == 1
    refused = await hooks.call("POST", f"{endpoint['id']}/test", status=409)
    assert refused["detail"] == "the endpoint is turned off: turn it on to send it a test event"
    await hooks.call("POST", f"{endpoint['id']}/deliveries/{dead['id']}/replay", status=409)

    on = await hooks.call("PATCH", endpoint["id"], json={"enabled": True})
    assert on["enabled"] is True and on["disabled_reason"] is None
    await hooks.call("POST", f"{endpoint['id']}/deliveries/{dead['id']}/replay", status=202)
    await only_delivery(hooks, endpoint, state="sent", attempts=2)
    assert [r.answered for r in receiver.received] == [410, 200]


async def test_a_redirect_is_not_followed(shop: Shop, hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.add(receiver.url())
    receiver.answer("shop", 308)
    await hooks.test(endpoint)
    failed = await only_delivery(hooks, endpoint, state="failed", attempts=1)
    assert "redirects are not followed" in failed["last_error"]
    assert len(receiver.received) == 1


async def test_deleting_an_endpoint_deletes_its_deliveries(shop: Shop, hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.add(receiver.url())
    delivery = await hooks.test(endpoint)
    await hooks.settled(endpoint, 1)
    await hooks.call("DELETE", endpoint["id"], status=204)
    await hooks.call("GET", endpoint["id"], status=404)
    await hooks.call("GET", f"{endpoint['id']}/deliveries/{delivery['id']}", status=404)


def test_by_default_a_delivery_is_tried_on_the_standard_webhooks_schedule_over_three_days() -> None:
    policy = retry_policies(Settings(_env_file=None))["webhook"]  # type: ignore[call-arg]
    assert policy.max_attempts == 10
    waits = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    for attempt, wait in enumerate(waits, start=1):
        drawn = [policy.delay(attempt) for _ in range(100)]
        assert all(0.9 * wait <= d <= 1.1 * wait for d in drawn) and max(drawn) > min(drawn)
    assert timedelta(seconds=sum(waits)) == timedelta(hours=75, minutes=35, seconds=5)
    # Emails keep the outbox's own back-off.
    assert retry_policies(Settings(_env_file=None))["email"].max_attempts == 12  # type: ignore[call-arg]
