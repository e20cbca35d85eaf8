"""Keeping the chat clean: the brand's rules, slow mode, deletes, time-outs, bans and shadow-bans, pins."""

from __future__ import annotations

from typing import Any

from shopcast.core.security import Role
from tests.chat.conftest import Join, Room
from tests.conftest import SettableClock
from tests.factories import Factory
from tests.live_room import send
from tests.statements import statements_sent

GUESTS_CANNOT = "guests cannot do this: sign in with a staff account"


async def refused(viewer: Any, event: str, data: dict[str, Any], status: int, reason: str) -> dict[str, Any]:
    ack = await viewer.call(event, data)
    assert ack["ok"] is False and ack["error"]["status"] == status, ack
    assert reason in ack["error"]["detail"], ack
    return ack["error"]


async def test_banned_words_are_masked_or_refused_as_the_brand_chooses(join: Join, room: Room, client: Any) -> None:
    rules = {"banned_words": ["Scam", "knock off", "knock"], "banned_words_action": "mask"}
    response = await client.put("/api/v1/brands/acme/chat-rules", json=rules, headers=room.manager.headers)
    assert response.status == 200, await response.text()
    assert (await response.json())["banned_words"] == ["knock", "knock off", "scam"]
    lea = await join("Lea")
    masked = await send(lea, room.episode_id, "this is a SCAM, a knock off! scampi is fine")
    assert masked["text"] == "this is a ****, a *********! scampi is fine"  # the longest phrase whole
    await client.put(
        "/api/v1/brands/acme/chat-rules", json={**rules, "banned_words_action": "reject"}, headers=room.manager.headers
    )
    await refused(
        lea, "chat:send", {"episode_id": room.episode_id, "text": "scam!"}, 422, "a word this brand does not allow"
    )
    not_manager = await client.put("/api/v1/brands/acme/chat-rules", json=rules, headers=room.moderator.headers)
    assert not_manager.status == 403
    assert (await not_manager.json())["detail"] == "this needs the manager role; you are moderator"


async def test_links_from_viewers_are_refused_unless_allowed(join: Join, room: Room, client: Any) -> None:
    lea, host = await join("Lea"), await join(room.host)
    for text in ("buy at https://cheap.example.net/x", "see www.cheap.example", "go to cheap-bags.shop now"):
        await refused(lea, "chat:send", {"episode_id": room.episode_id, "text": text}, 422, "links are not allowed")
    assert (await send(lea, room.episode_id, "size 3.5 or 4.0? 1.70 m"))["text"]  # numbers are not links
    assert await send(host, room.episode_id, "the dress: https://acme.example/dress")  # staff may link
    await client.put(
        "/api/v1/brands/acme/chat-rules", json={"allowed_link_domains": ["acme.example"]}, headers=room.manager.headers
    )
    assert await send(lea, room.episode_id, "same as https://shop.acme.example/dress?")
    # The domain itself and its subdomains, never a name that merely ends the same way.
    tom = await join("Tom")  # a fresh allowance of events
    assert await send(tom, room.episode_id, "or acme.example/dress")
    for text in (
        "https://evil.example",
        "https://evilacme.example/dress",
        "see notacme.example",
        "acme.example.evil.io",
    ):
        await refused(tom, "chat:send", {"episode_id": room.episode_id, "text": text}, 422, "links are not allowed")
    # A brand may let every link through.
    rules = {"allow_links": True, "allowed_link_domains": ["acme.example"]}
    response = await client.put("/api/v1/brands/acme/chat-rules", json=rules, headers=room.manager.headers)
    assert (await response.json())["allow_links"] is True
    assert (await send(lea, room.episode_id, "https://anywhere.example.org/x"))[
        "text"
    ] == "https://anywhere.example.org/x"


async def test_slow_mode_lets_each_viewer_write_once_per_period(join: Join, room: Room, clock: SettableClock) -> None:
    lea, tom, moderator = await join("Lea"), await join("Tom"), await join(room.moderator)
    await refused(lea, "chat:slow-mode", {"episode_id": room.episode_id, "seconds": 30}, 403, GUESTS_CANNOT)
    assert (await moderator.call("chat:slow-mode", {"episode_id": room.episode_id, "seconds": 30}))["ok"]
    assert (await tom.wait_for("chat:slow-mode"))["seconds"] == 30
    await send(lea, room.episode_id, "first")
    await send(tom, room.episode_id, "tom may write too")
    clock.advance(seconds=10.6)
    # 19.4 s left: told 20 (rounded up), so waiting what she is told is always enough.
    error = await refused(lea, "chat:send", {"episode_id": room.episode_id, "text": "second"}, 429, "slow mode")
    assert error["retry_after"] == 20 and error["detail"].endswith("you can write again in 20 s")
    await send(moderator, room.episode_id, "staff are not slowed")
    await send(moderator, room.episode_id, "not at all")
    clock.advance(seconds=19.4)
    await send(lea, room.episode_id, "second, later")
    assert (await join("Zoe")).ack["snapshot"]["slow_mode_seconds"] == 30


async def test_a_message_is_checked_in_one_read_before_its_insert(
    join: Join, room: Room, clock: SettableClock, client: Any
) -> None:
    # In a busy room every round trip to the database waits for the event loop: a message's checks
    # (the episode, slow mode, the sender's restrictions, the brand's rules, the message replied to)
    # are one read, however many of them apply.
    lea, tom, moderator = await join("Lea"), await join("Tom"), await join(room.moderator)
    assert (await moderator.call("chat:slow-mode", {"episode_id": room.episode_id, "seconds": 30}))["ok"]
    question = await send(tom, room.episode_id, "Is it lined?")
    mine = await send(lea, room.episode_id, "first")
    ack = await moderator.call("chat:shadow-ban", {"episode_id": room.episode_id, "message_id": mine["id"]})
    assert ack["ok"], ack
    await refused(lea, "chat:send", {"episode_id": room.episode_id, "text": "too soon"}, 429, "slow mode")
    clock.advance(seconds=30)
    with statements_sent(client, "chat_") as sent:
        reply = await send(lea, room.episode_id, "nobody hears this", reply_to=question["id"])
    assert reply["reply_to"]["id"] == question["id"]
    visible = await send(moderator, room.episode_id, "hello all")
    await tom.wait_for("chat:message", message=visible)
    assert reply["id"] not in [e["message"]["id"] for e in tom.events("chat:message")]
    assert [statement.split()[0] for statement in sent] == ["SELECT", "INSERT"], sent


async def test_a_deleted_message_disappears_for_everyone_and_stays_in_the_audit_log(
    join: Join, room: Room, client: Any
) -> None:
    lea, tom, moderator = await join("Lea"), await join("Tom"), await join(room.moderator)
    rude = await send(lea, room.episode_id, "something rude")
    await refused(tom, "chat:delete", {"episode_id": room.episode_id, "message_id": rude["id"]}, 403, GUESTS_CANNOT)
    ack = await moderator.call(
        "chat:delete", {"episode_id": room.episode_id, "message_id": rude["id"], "reason": "rude"}
    )
    assert ack["ok"], ack
    for viewer in (lea, tom):
        assert (await viewer.wait_for("chat:deleted"))["message_id"] == rude["id"]
    assert (await join("Zoe")).ack["snapshot"]["chat"] == []
    history = await client.get(f"/api/v1/public/episodes/{room.episode_id}/chat")
    assert await history.json() == []
    log = await client.get(room.path("/chat/moderation-log"), headers=room.host.headers)
    (entry,) = await log.json()
    assert entry["action"] == "delete" and entry["message_text"] == "something rude" and entry["detail"] == "rude"
    assert entry["viewer_name"] == "Lea" and entry["actor_name"]
    viewer_log = await client.get(room.path("/chat/moderation-log"), headers=guest_headers(tom))
    assert viewer_log.status == 403
    assert (await viewer_log.json())["detail"] == GUESTS_CANNOT


def guest_headers(viewer: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {viewer.token}"}


async def test_staff_of_another_brand_cannot_moderate(join: Join, room: Room, factory: Factory) -> None:
    await factory.brand("other")
    stranger = await factory.staff("other", Role.MODERATOR)
    lea, outsider = await join("Lea"), await join(stranger)
    message = await send(lea, room.episode_id, "hello")
    assert outsider.ack["snapshot"]["you"]["role"] == "viewer"
    for event in ("chat:delete", "chat:ban", "chat:pin"):
        data = {"episode_id": room.episode_id, "message_id": message["id"]}
        await refused(outsider, event, data, 403, "you have no role in this brand")


async def test_a_timed_out_viewer_waits_then_writes_again(join: Join, room: Room, clock: SettableClock) -> None:
    lea, moderator = await join("Lea"), await join(room.moderator)
    message = await send(lea, room.episode_id, "spam spam")
    ack = await moderator.call(
        "chat:timeout", {"episode_id": room.episode_id, "message_id": message["id"], "minutes": 5}
    )
    assert ack["ok"] and ack["restriction"]["kind"] == "timeout"
    error = await refused(lea, "chat:send", {"episode_id": room.episode_id, "text": "again"}, 403, "timed out")
    assert error["detail"] == "you are timed out: you can write again in 5 min" and error["until"]
    data = {"episode_id": room.episode_id, "message_id": message["id"]}
    await refused(moderator, "chat:timeout", data, 422, "minutes: Field required")
    clock.advance(minutes=5, seconds=1)
    await send(lea, room.episode_id, "I'll behave")


async def test_a_banned_guest_leaves_the_room_and_cannot_come_back_as_the_same_guest(
    join: Join, room: Room, client: Any
) -> None:
    lea, tom, moderator = await join("Lea"), await join("Tom"), await join(room.moderator)
    message = await send(lea, room.episode_id, "buy my stuff instead")
    banning = {"episode_id": room.episode_id, "message_id": message["id"], "reason": "selling elsewhere"}
    ack = await moderator.call("chat:ban", banning)
    assert ack["ok"], ack
    removed = await tom.wait_for("chat:viewer-removed")
    assert removed["ref"] == lea.ack["snapshot"]["you"]["ref"]
    assert (await lea.wait_for("chat:viewer-removed"))["ref"] == removed["ref"]
    after = await send(tom, room.episode_id, "glad that's over")
    await tom.wait_for("chat:message", message=after)
    await lea.settle()
    assert after["id"] not in [e["message"]["id"] for e in lea.events("chat:message")]
    # Out of the room, told why (not "join the episode first"), as when joining again.
    reason = "you are banned from this brand's chats: selling elsewhere"
    error = await refused(lea, "chat:send", {"episode_id": room.episode_id, "text": "hello?"}, 403, reason)
    assert error["detail"] == reason
    error = await refused(lea, "join", {"episode_id": room.episode_id}, 403, reason)
    assert error["detail"] == reason
    bans = await client.get("/api/v1/brands/acme/chat-bans", headers=room.moderator.headers)
    (ban,) = await bans.json()
    assert ban["kind"] == "ban" and ban["viewer_name"] == "Lea" and ban["viewer_kind"] == "guest"
    lifted = await client.delete(f"/api/v1/brands/acme/chat-bans/{ban['id']}", headers=room.moderator.headers)
    assert lifted.status == 204
    assert (await lea.call("join", {"episode_id": room.episode_id}))["ok"]


async def test_a_ban_holds_in_its_own_brand_only(join: Join, room: Room, client: Any, factory: Factory) -> None:
    lea, moderator = await join("Lea"), await join(room.moderator)
    message = await send(lea, room.episode_id, "buy my stuff instead")
    assert (await moderator.call("chat:ban", {"episode_id": room.episode_id, "message_id": message["id"]}))["ok"]
    await factory.brand("globex")
    globex = await factory.staff("globex", Role.MANAGER)
    show = await factory.show("globex", globex, title="Globex Friday")
    elsewhere = (await factory.episodes(show["id"], globex))[0]["id"]

    ack = await lea.call("join", {"episode_id": elsewhere})
    assert ack["ok"], ack
    assert (await send(lea, elsewhere, "hello Globex"))["text"] == "hello Globex"
    bans = await client.get("/api/v1/brands/globex/chat-bans", headers=globex.headers)
    assert await bans.json() == []
    await refused(lea, "join", {"episode_id": room.episode_id}, 403, "you are banned from this brand's chats")


async def test_a_shadow_banned_viewer_sees_their_messages_and_nobody_else_does(
    join: Join, room: Room, client: Any
) -> None:
    lea, tom, moderator = await join("Lea"), await join("Tom"), await join(room.moderator)
    first = await send(lea, room.episode_id, "first")
    ack = await moderator.call("chat:shadow-ban", {"episode_id": room.episode_id, "message_id": first["id"]})
    assert ack["ok"], ack
    hidden = await send(lea, room.episode_id, "nobody hears me")  # the ack looks as usual
    visible = await send(tom, room.episode_id, "hello all")
    await tom.wait_for("chat:message", message=visible)
    assert hidden["id"] not in [e["message"]["id"] for e in tom.events("chat:message")]
    again = await lea.call("join", {"episode_id": room.episode_id})
    assert "nobody hears me" in [m["text"] for m in again["snapshot"]["chat"]]
    other = await join("Zoe")
    assert "nobody hears me" not in [m["text"] for m in other.ack["snapshot"]["chat"]]
    history = await (await client.get(f"/api/v1/public/episodes/{room.episode_id}/chat")).json()
    assert [m["text"] for m in history] == ["first", "hello all"]
    data = {"episode_id": room.episode_id, "message_id": hidden["id"]}
    await refused(moderator, "chat:pin", data, 409, "this message is not visible: it cannot be pinned")


async def test_a_pinned_message_shows_for_everyone_until_unpinned(join: Join, room: Room) -> None:
    lea, host = await join("Lea"), await join(room.host)
    offer = await send(host, room.episode_id, "Code LIVE10 for 10% off")
    assert (await host.call("chat:pin", {"episode_id": room.episode_id, "message_id": offer["id"]}))["ok"]
    assert (await lea.wait_for("chat:pinned"))["message"]["id"] == offer["id"]
    assert (await join("Tom")).ack["snapshot"]["pinned"]["text"] == "Code LIVE10 for 10% off"
    await refused(lea, "chat:unpin", {"episode_id": room.episode_id}, 403, GUESTS_CANNOT)
    assert (await host.call("chat:unpin", {"episode_id": room.episode_id}))["ok"]
    await lea.wait_for("chat:unpinned")
    assert (await join("Zoe")).ack["snapshot"]["pinned"] is None


async def test_staff_cannot_be_banned_from_their_own_chat(join: Join, room: Room) -> None:
    host, moderator = await join(room.host), await join(room.moderator)
    message = await send(host, room.episode_id, "welcome")
    data = {"episode_id": room.episode_id, "message_id": message["id"]}
    await refused(moderator, "chat:ban", data, 409, "staff messages cannot be moderated this way")
