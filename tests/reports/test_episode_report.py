"""The episode report counts a scripted show right: known joins and leaves at known times, messages,
a question answered, a pin, cards seen, adds and orders during the live; after it, the replay's
players beating while they play, its cards seen, adds and orders; on SQLite and PostgreSQL. It is the
managers' own, and its tables export as safe CSV files."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from shopcast.chat import audience
from shopcast.core.db import Database
from tests.conftest import DEFAULT_NOW, SettableClock
from tests.live_room import Viewer, send
from tests.reports.conftest import Join, Shop
from tests.reports.replay_player import play_replay, record_replay, see_card_in_replay


async def report(shop: Shop, headers: dict[str, str] | None = None) -> Any:
    return await shop.client.get(
        f"/api/v1/episodes/{shop.episode_id}/report", headers=headers or shop.room.manager.headers
    )


async def leave(viewer: Viewer, episode_id: str) -> None:
    """Leave the room (acknowledged once the leave is recorded, unlike a disconnection)."""
    assert (await viewer.call("leave", {"episode_id": episode_id}))["ok"]


async def scripted_show(shop: Shop, join: Join, clock: SettableClock, database: Database) -> None:
    """Live from 10:00 to 10:06; then, an hour later, the replay is watched and sells too.

    Ann watches from 0:30 to the end; Ben from 1:00 to 5:00 in one tab and 1:30 to 4:00 in another;
    a page without a name from 2:00 to 4:00; the manager watches too (staff: not the audience). The
    dress is pinned at 2:00; Ann writes at 2:10, Ben asks at 2:20 and the host answers at 3:00; Ann
    adds at 2:30 and buys at 3:10, Ben adds at 3:30. After the show, at 11:00, Ben buys what he added;
    Cleo plays the replay from 11:00 to 11:02 (the dress's card over it), adds the dress and buys it,
    pauses, and plays on from 11:05 to 11:05:30; Ann comes back to the replay from 11:10 to 11:11 and
    sees the dress's card again."""
    episode = shop.episode_id

    async def at(minutes: int, seconds: int = 0) -> None:
        clock.at = DEFAULT_NOW.replace(minute=minutes, second=seconds)

    await join(shop.room.manager)
    await at(0, 30)
    ann = await join("Ann")
    await at(1)
    ben = await join("Ben")
    await at(1, 30)
    ben_again = await join(token=ben.token)
    await at(2)
    nameless = Viewer()
    await nameless.connect(shop.client, None)
    assert (await nameless.call("join", {"episode_id": episode}))["ok"]
    pin = await shop.pin()
    for viewer in (ann, ben, ben_again, nameless):  # Ben's two tabs: one viewer, one card view
        assert (await viewer.call("card:viewed", {"episode_id": episode, "pin_id": pin["id"]}))["ok"]
    await at(2, 10)
    await send(ann, episode, "Love it")
    await at(2, 20)
    question = await send(ben, episode, "Does it come in blue?", question=True)
    await at(2, 30)
    ann_headers = {"Authorization": f"Bearer {ann.token}"}
    ben_headers = {"Authorization": f"Bearer {ben.token}"}
    assert (await shop.add(ann_headers)).status == 201
    await at(3)
    host = await join(shop.room.host)
    assert (await host.call("chat:answer", {"episode_id": episode, "message_id": question["id"]}))["ok"]
    await at(3, 10)
    await shop.placed(ann_headers, "ann-live")
    await at(3, 30)
    assert (await shop.add(ben_headers)).status == 201
    await at(4)
    await leave(ben_again, episode)
    await leave(nameless, episode)
    await at(5)
    await leave(ben, episode)
    async with database.transaction() as session:
        await audience.add_reactions(session, episode_id=uuid.UUID(episode), counts={"❤️": 3})
    await at(6)
    ended = await shop.client.post(f"/api/v1/episodes/{episode}/end", headers=shop.room.host.headers)
    assert ended.status == 200, await ended.text()
    await leave(ann, episode)

    record_replay(shop, seconds=360)

    clock.at = DEFAULT_NOW + timedelta(hours=1)  # the replay
    await shop.placed(ben_headers, "ben-replay")
    cleo_headers = await shop.guest("Cleo")
    assert (await see_card_in_replay(shop, cleo_headers, pin["id"])).status == 204
    assert (await play_replay(shop, clock, cleo_headers, seconds=120))["watched_seconds"] == 120
    assert (await shop.add(cleo_headers)).status == 201
    await shop.placed(cleo_headers, "cleo-replay")
    clock.at = DEFAULT_NOW.replace(hour=11, minute=5)
    assert (await play_replay(shop, clock, cleo_headers, seconds=30))["watched_seconds"] == 150
    clock.at = DEFAULT_NOW.replace(hour=11, minute=10)
    assert (await play_replay(shop, clock, ann_headers, seconds=60))["watched_seconds"] == 60
    assert (await see_card_in_replay(shop, ann_headers, pin["id"])).status == 204
    clock.advance(minutes=5)


async def test_a_scripted_show_is_counted_right(
    shop: Shop, join: Join, clock: SettableClock, database: Database
) -> None:
    await scripted_show(shop, join, clock, database)
    response = await report(shop)
    assert response.status == 200, await response.text()
    got = await response.json()

    assert got["episode"]["went_live_at"].startswith("2026-09-20T10:00:00")
    assert got["currency"] == "EUR"
    assert got["facts_recorded"] is True
    # Ann 330 s, Ben 240 s (his two tabs merged), the nameless page 120 s; the staff left out.
    assert got["audience"]["live"] == {
        "unique_viewers": 3,
        "peak_viewers": 3,
        "average_viewers": 1.9,  # 690 s watched over 360 s of live
        "watch_seconds": 690,
        "average_watch_seconds": 230,
        "median_watch_seconds": 240,
    }
    # Cleo 150 s (her pause not counted), Ann 60 s: the time their players played.
    assert got["audience"]["replay"] == {
        "unique_viewers": 2,
        "peak_viewers": 1,
        "average_viewers": None,
        "watch_seconds": 210,
        "average_watch_seconds": 105,
        "median_watch_seconds": 105,
    }
    assert got["engagement"] == {
        "messages": 2,
        "questions": 1,
        "answered_questions": 1,
        "reactions": 3,
        "polls": 0,
        "poll_votes": 0,
        "poll_voters": 0,
        "giveaways": 0,
        "giveaway_entries": 0,
    }
    [dress] = got["products"]
    assert dress == {
        "product_id": shop.product["id"],
        "title": "Linen dress",
        "pins": 1,
        "seconds_on_screen": 240,  # 10:02 to the end at 10:06
        "card_views": 5,  # Ann, Ben and the nameless page live; Cleo and Ann again over the replay
        "replay_card_views": 2,
        "adds": 3,
        "units_added": 3,
        "orders": 3,
        "units_sold": 3,
        "revenue": 3 * 4990,
    }
    assert got["sales"]["live"] == {
        "viewers": 3,
        "carts": 2,
        "adds": 2,
        "orders": 1,
        "buyers": 1,
        "units": 1,
        "revenue": 4990,
        "viewers_to_carts": 0.6667,
        "carts_to_orders": 0.5,
        "viewers_to_orders": 0.3333,
    }
    # Ben's order of what he added live counts for the replay: it was placed after the end.
    assert got["sales"]["replay"] == {
        "viewers": 2,
        "carts": 1,
        "adds": 1,
        "orders": 2,
        "buyers": 2,
        "units": 2,
        "revenue": 2 * 4990,
        "viewers_to_carts": 0.5,
        "carts_to_orders": 2.0,
        "viewers_to_orders": 1.0,
    }
    minutes = got["minutes"]
    assert [m["minute"] for m in minutes] == [0, 1, 2, 3, 4, 5]
    assert [m["viewers"] for m in minutes] == [1, 2, 3, 3, 2, 1]
    assert [m["messages"] for m in minutes] == [0, 0, 2, 0, 0, 0]
    assert [m["orders"] for m in minutes] == [0, 0, 0, 1, 0, 0]
    assert [m["revenue"] for m in minutes] == [0, 0, 0, 4990, 0, 0]
    assert minutes[3]["at"].startswith("2026-09-20T10:03:00")
    [pin] = got["pins"]
    assert (pin["title"], pin["minute"]) == ("Linen dress", 2.0)
    assert got["previous"] == []


async def test_the_show_report_compares_its_aired_episodes(
    shop: Shop, join: Join, clock: SettableClock, database: Database
) -> None:
    await scripted_show(shop, join, clock, database)
    show_id = (await (await report(shop)).json())["episode"]["show_id"]
    response = await shop.client.get(f"/api/v1/shows/{show_id}/report", headers=shop.room.manager.headers)
    assert response.status == 200, await response.text()
    [episode] = (await response.json())["episodes"]
    assert episode["episode_id"] == shop.episode_id
    assert (episode["unique_viewers"], episode["peak_viewers"], episode["messages"]) == (3, 3, 2)
    assert (episode["live_orders"], episode["live_revenue"]) == (1, 4990)
    assert (episode["replay_orders"], episode["replay_revenue"]) == (2, 9980)
    assert (episode["live_minutes"], episode["viewers_to_orders"]) == (6, 0.3333)
    # The replay apart, and what the show's page adds up: live and replay watch time.
    assert (episode["watch_seconds"], episode["replay_watch_seconds"]) == (690, 210)
    assert (episode["replay_viewers"], episode["replay_viewers_to_orders"]) == (2, 1.0)


async def test_a_report_is_the_brand_managers_own(shop: Shop) -> None:
    rival = await shop.rival()
    assert (await report(shop, rival.manager.headers)).status == 403
    assert (await report(shop, shop.room.host.headers)).status == 403  # revenue: managers only
    assert (await report(shop, await shop.guest())).status == 403
    assert (await shop.client.get(f"/api/v1/episodes/{shop.episode_id}/report")).status == 401
    show_id = (await (await report(shop)).json())["episode"]["show_id"]
    rivals_view = await shop.client.get(f"/api/v1/shows/{show_id}/report", headers=rival.manager.headers)
    assert rivals_view.status == 403
    coming = (await shop.factory.episodes(show_id, shop.room.manager))[1]
    not_yet = await shop.client.get(f"/api/v1/episodes/{coming['id']}/report", headers=shop.room.manager.headers)
    assert not_yet.status == 409
    assert "not been live" in (await not_yet.json())["detail"]


async def test_every_table_exports_as_a_safe_csv_file(shop: Shop, join: Join) -> None:
    changed = await shop.client.patch(
        f"/api/v1/products/{shop.product['id']}",
        json={"title": '=HYPERLINK("http://evil.test","Click")'},
        headers=shop.room.manager.headers,
    )
    assert changed.status == 200, await changed.text()
    await shop.pin()
    buyer = await shop.guest()
    await shop.buy(buyer, "csv-order")
    got = await (await report(shop)).json()
    for table in ("audience", "engagement", "products", "sales", "minutes", "pins", "previous"):
        response = await shop.client.get(
            f"/api/v1/episodes/{shop.episode_id}/report.csv?table={table}", headers=shop.room.manager.headers
        )
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="episode-2026-09-20-{table}.csv"'
        body = await response.read()
        assert body.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows[0], table
    products = await shop.client.get(
        f"/api/v1/episodes/{shop.episode_id}/report.csv?table=products", headers=shop.room.manager.headers
    )
    header, row = list(csv.reader(io.StringIO((await products.read()).decode("utf-8-sig"))))
    assert header[:3] == ["product_id", "title", "pins"]
    assert row[1] == '\'=HYPERLINK("http://evil.test","Click")'
    assert row[header.index("revenue")] == str(got["products"][0]["revenue"]) == "4990"
    refused = await shop.client.get(
        f"/api/v1/episodes/{shop.episode_id}/report.csv?table=secrets", headers=shop.room.manager.headers
    )
    assert refused.status == 422
