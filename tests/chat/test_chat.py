"""Chatting in the live room: messages, replies, questions and reactions, through real clients."""

from __future__ import annotations

import uuid
from typing import Any

from shopcast.web.sockets import TALLIES
from tests.chat.conftest import Join, Room
from tests.live_room import send


async def test_a_message_reaches_everyone_in_the_room_with_its_seq(join: Join, room: Room) -> None:
    lea, tom = await join("Lea"), await join("Tom")
    sent = await send(lea, room.episode_id, "Which size for 1.70 m?")
    heard = await tom.wait_for("chat:message")
    assert heard["message"] == sent
    assert heard["seq"] > tom.ack["seq"]
    assert sent["author"]["name"] == "Lea" and sent["author"]["role"] == "viewer"
    assert sent["author"]["ref"] == lea.ack["snapshot"]["you"]["ref"] != tom.ack["snapshot"]["you"]["ref"]
    late = await join("Zoe")
    assert [m["text"] for m in late.ack["snapshot"]["chat"]] == ["Which size for 1.70 m?"]


async def test_a_nameless_guest_reacts_but_picks_a_nickname_before_chatting(
    join: Join, room: Room, client: Any
) -> None:
    nameless = await join(None)
    you = nameless.ack["snapshot"]["you"]
    assert (await nameless.call("chat:react", {"episode_id": room.episode_id, "emoji": "🔥"}))["ok"]
    refused = await nameless.call("chat:send", {"episode_id": room.episode_id, "text": "hello"})
    assert refused["error"]["status"] == 403, refused
    assert refused["error"]["detail"].startswith("pick a nickname first"), refused
    headers = {"Authorization": f"Bearer {nameless.token}"}
    named = await (await client.post("/api/v1/auth/guest", json={"nickname": "Lea"}, headers=headers)).json()
    lea = await join(token=named["token"])
    assert lea.ack["snapshot"]["you"]["ref"] == you["ref"]  # the same viewer, now with a name
    sent = await send(lea, room.episode_id, "hello")
    assert sent["author"] == {"ref": you["ref"], "name": "Lea", "role": "viewer"}


async def test_staff_messages_are_marked_and_replies_quote_the_message(join: Join, room: Room) -> None:
    lea, host = await join("Lea"), await join(room.host)
    question = await send(lea, room.episode_id, "Is the blue one lined?")
    answer = await send(host, room.episode_id, "Yes, fully lined in silk", reply_to=question["id"])
    assert answer["author"]["role"] == "host"
    assert answer["reply_to"] == {"id": question["id"], "author_name": "Lea", "text": "Is the blue one lined?"}
    assert (await lea.wait_for("chat:message"))["message"]["id"] == question["id"]
    assert (await lea.wait_for("chat:message"))["message"]["reply_to"]["id"] == question["id"]
    moderator = await join(room.moderator)
    assert (await send(moderator, room.episode_id, "Welcome!"))["author"]["role"] == "moderator"


async def test_text_stays_text_and_bad_messages_get_a_reason(join: Join, room: Room) -> None:
    lea = await join("Lea")
    markup = await send(lea, room.episode_id, "<img src=x onerror=alert(1)> <b>nice</b>")
    assert markup["text"] == "<img src=x onerror=alert(1)> <b>nice</b>"  # stored and sent as plain text
    # Control, format and private-use characters go; line breaks stay.
    cleaned = await send(lea, room.episode_id, "  hi\u0000\u202e\ue000 there\n\n\n\nyou  ")
    assert cleaned["text"] == "hi there\n\nyou"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"text": "x" * 501}, 422, "at most 500"),
        ({"text": "   "}, 422, "text"),
        ({"text": "hi", "reply_to": str(uuid.uuid4())}, 422, "not in this chat"),
        ({"text": 42}, 422, "text"),
        ({"text": "half an emoji \ud83d"}, 422, "text: Input should be a valid string"),
    ]
    for fields, status, reason in cases:
        ack = await lea.call("chat:send", {"episode_id": room.episode_id, **fields})
        assert ack["ok"] is False and ack["error"]["status"] == status, ack
        assert reason in ack["error"]["detail"], ack


async def test_events_for_a_room_not_joined_are_refused(join: Join, room: Room, client: Any, factory: Any) -> None:
    lea = await join("Lea")
    elsewhere = str(uuid.uuid4())
    ack = await lea.call("chat:send", {"episode_id": elsewhere, "text": "hello?"})
    assert ack["error"]["status"] == 409 and "join the episode first" in ack["error"]["detail"]
    assert (await lea.call("leave", {"episode_id": room.episode_id}))["ok"]
    ack = await lea.call("chat:send", {"episode_id": room.episode_id, "text": "still here?"})
    assert ack["error"]["status"] == 409 and ack["error"]["detail"] == "join the episode first", ack


async def test_the_chat_closes_when_the_show_has_ended(join: Join, room: Room, client: Any) -> None:
    lea = await join("Lea")
    await client.post(room.path("/end"), headers=room.host.headers)
    ack = await lea.call("chat:send", {"episode_id": room.episode_id, "text": "bye"})
    assert ack["error"]["status"] == 409 and "chat is closed" in ack["error"]["detail"]


async def test_questions_queue_for_the_host_until_answered(join: Join, room: Room) -> None:
    lea, host = await join("Lea"), await join(room.host)
    question = await send(lea, room.episode_id, "Does it come in green?", question=True)
    assert question["question"] and not question["answered"]
    await send(lea, room.episode_id, "love it")
    queue = (await join(room.moderator)).ack["snapshot"]["questions"]
    assert [q["id"] for q in queue] == [question["id"]]
    refused = await lea.call("chat:answer", {"episode_id": room.episode_id, "message_id": question["id"]})
    assert refused["error"]["status"] == 403, refused
    assert refused["error"]["detail"] == "guests cannot do this: sign in with a staff account"
    assert (await host.call("chat:answer", {"episode_id": room.episode_id, "message_id": question["id"]}))["ok"]
    assert (await lea.wait_for("chat:answered"))["message_id"] == question["id"]
    assert (await join("Zoe")).ack["snapshot"]["questions"] == []


async def test_reactions_are_counted_together_and_kept(join: Join, room: Room, client: Any) -> None:
    lea, tom = await join("Lea"), await join("Tom")
    for viewer, emoji in ((lea, "🔥"), (tom, "🔥"), (tom, "❤️")):
        assert (await viewer.call("chat:react", {"episode_id": room.episode_id, "emoji": emoji}))["ok"]
    seen: dict[str, int] = {}
    while seen != {"🔥": 2, "❤️": 1}:
        tally = await lea.wait_for("chat:reactions")
        assert tally["seq"] >= lea.ack["seq"]
        for emoji, count in tally["counts"].items():
            seen[emoji] = seen.get(emoji, 0) + count
    bad = await lea.call("chat:react", {"episode_id": room.episode_id, "emoji": "💩"})
    assert bad["error"]["status"] == 422 and bad["error"]["detail"].startswith("emoji: "), bad
    await client.app[TALLIES].save()
    assert (await join("Zoe")).ack["snapshot"]["reactions"] == {"🔥": 2, "❤️": 1}


async def test_each_connection_has_an_event_allowance(join: Join, room: Room) -> None:
    lea = await join("Lea")
    acks = [await lea.call("chat:react", {"episode_id": room.episode_id, "emoji": "👏"}) for _ in range(15)]
    refused = [a for a in acks if not a["ok"]]
    assert refused, "a burst of 15 must go over the allowance of 10"
    assert refused[0]["error"]["status"] == 429 and refused[0]["error"]["retry_after"] >= 1
    assert refused[0]["error"]["detail"].startswith("too many events: slow down")


async def test_a_viewer_going_too_fast_is_told_so_in_their_browser_s_language(join: Join, room: Room) -> None:
    lea = await join("Léa", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"})
    acks = [await lea.call("chat:react", {"episode_id": room.episode_id, "emoji": "👏"}) for _ in range(15)]
    error = next(a for a in acks if not a["ok"])["error"]
    wait = error["retry_after"]
    assert (
        error["detail"]
        == f"trop d\N{RIGHT SINGLE QUOTATION MARK}actions\N{NO-BREAK SPACE}: ralentissez, réessayez dans {wait} s"
    )
    assert (error["title"], error["status"], error["type"]) == (
        "Ralentissez",
        429,
        "urn:shopcast:problem:too-many-requests",
    )


async def test_the_replay_history_is_public_and_in_order(
    join: Join, room: Room, client: Any, clock: Any, factory: Any
) -> None:
    lea = await join("Lea")
    for n in range(3):
        await send(lea, room.episode_id, f"message {n}")
        clock.advance(seconds=1)
    # Another live episode's chat is its own.
    show = await factory.show("acme", room.manager, title="Another show")
    other = (await factory.episodes(show["id"], room.manager))[0]["id"]
    assert (await client.post(f"/api/v1/episodes/{other}/start", headers=room.host.headers)).status == 200
    await send(await join("Tom", episode_id=other), other, "elsewhere")
    response = await client.get(f"/api/v1/public/episodes/{room.episode_id}/chat")
    assert response.status == 200
    history = await response.json()
    assert [m["text"] for m in history] == ["message 0", "message 1", "message 2"]
    # Each with the moment it was sent, which the replay plays it at; paged by that moment.
    assert [m["at"] for m in history] == sorted(m["at"] for m in history) and len({m["at"] for m in history}) == 3
    page = await client.get(f"/api/v1/public/episodes/{room.episode_id}/chat", params={"after": history[0]["at"]})
    assert [m["text"] for m in await page.json()] == ["message 1", "message 2"]
    assert [m["text"] for m in await (await client.get(f"/api/v1/public/episodes/{other}/chat")).json()] == [
        "elsewhere"
    ]
    missing = await client.get(f"/api/v1/public/episodes/{uuid.uuid4()}/chat")
    assert missing.status == 404
