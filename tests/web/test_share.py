"""An episode's watch page as a shared link and a search engine see it: Open Graph and Twitter card
tags, and schema.org JSON-LD (an online `Event` with its `BroadcastEvent`), read with a real HTML
parser and a JSON parser. A title written to break out of the data block stays data."""

from __future__ import annotations

import asyncio
import json
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from shopcast.core.security import Role
from shopcast.core.settings import Settings
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.schemas import EpisodeOut, EpisodePreview
from shopcast.web.share import json_for_script, share_tags
from tests.conftest import SettableClock, make_settings
from tests.factories import Factory, Staff
from tests.statements import statements_sent

PUBLIC = "https://live.example.com"
HOSTILE = 'Ada\'s "best" </script><script>alert(1)</script> & <!-- sale'


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, backend: dict[str, Any]) -> Settings:
    # Each page is looked up afresh (these tests change an episode between two loads), unless a
    # test says how long previews are kept (`indirect` parameter).
    kept = getattr(request, "param", 0)
    return make_settings(tmp_path, public_url=PUBLIC, watch_preview_seconds=kept, **backend)


class Head(HTMLParser):
    """The page's meta tags, links, title and scripts, as a browser's parser finds them."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (found.get("property") or found.get("name")):
            self.meta[str(found.get("property") or found.get("name"))] = str(found.get("content"))
        elif tag == "link":
            self.links[str(found.get("rel"))] = str(found.get("href"))
        elif tag == "script":
            self.scripts.append((found, ""))
            self._in = "script"
        elif tag == "title":
            self._in = "title"

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif self._in == "title":
            self.title += data


async def head_of(client: Any, path: str, **headers: str) -> tuple[Any, Head]:
    response = await client.get(path, headers=headers)
    page = Head()
    page.feed(await response.text())
    return response, page


def structured(page: Head) -> dict[str, Any]:
    (data,) = [text for attrs, text in page.scripts if attrs.get("type") == "application/ld+json"]
    return json.loads(data)


async def planned(factory: Factory, **show: Any) -> tuple[Staff, dict[str, Any], list[dict[str, Any]]]:
    await factory.brand("acme", "Acme Paris")
    manager = await factory.staff("acme", Role.MANAGER)
    made = await factory.show("acme", manager, **show)
    return manager, made, await factory.episodes(made["id"], manager)


async def test_an_episode_page_previews_as_a_show_with_its_picture_and_time(client: Any, factory: Factory) -> None:
    manager, show, episodes = await planned(factory, description="Linen, silk and the new season.")
    episode = episodes[0]
    product = await client.post(
        "/api/v1/brands/acme/products",
        json={
            "title": "Linen wrap dress",
            "price": 8900,
            "image_urls": ["https://cdn.example.test/dress.jpg", "https://cdn.example.test/back.jpg"],
            "variants": [{"sku": "LWD-M", "options": {"size": "M"}, "stock": 3}],
        },
        headers=manager.headers,
    )
    assert product.status == 201, await product.text()
    lineup = {"product_ids": [(await product.json())["id"]]}
    assert (await client.put(f"/api/v1/episodes/{episode['id']}/lineup", json=lineup, headers=manager.headers)).ok

    response, page = await head_of(client, f"/watch/{episode['id']}", **{"Accept-Language": "en"})
    assert response.status == 200
    url = f"{PUBLIC}/watch/{episode['id']}"
    assert page.title == "Tuesday Night Live · Shopcast"
    assert page.links["canonical"] == url
    meta = page.meta
    assert meta["og:type"] == "video.other" and meta["og:site_name"] == "Acme Paris"
    assert meta["og:title"] == meta["twitter:title"] == "Tuesday Night Live"
    assert meta["og:url"] == url and meta["og:locale"] == "en_US"
    # The cover: the first picture of the lineup's first product, as an absolute address.
    assert meta["og:image"] == meta["twitter:image"] == "https://cdn.example.test/dress.jpg"
    assert meta["twitter:card"] == "summary_large_image"
    description = (
        "Live shopping with Acme Paris, Tuesday, September 22, 2026, 7:00\u202fPM. Linen, silk and the new season."
    )
    assert meta["og:description"] == meta["twitter:description"] == meta["description"] == description
    assert meta["video:release_date"] == "2026-09-22T19:00:00+02:00"
    # Search engines index it: nothing says otherwise, in the page or its headers.
    assert "robots" not in meta and "X-Robots-Tag" not in response.headers

    event = structured(page)
    assert event["@context"] == "https://schema.org" and event["@type"] == "Event"
    assert event["name"] == "Tuesday Night Live" and event["description"] == description
    assert (event["startDate"], event["endDate"]) == ("2026-09-22T19:00:00+02:00", "2026-09-22T20:00:00+02:00")
    assert event["eventStatus"] == "https://schema.org/EventScheduled"
    assert event["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert event["location"] == {"@type": "VirtualLocation", "url": url}
    assert event["organizer"] == {"@type": "Organization", "name": "Acme Paris"}
    assert event["image"] == ["https://cdn.example.test/dress.jpg"] and event["url"] == url
    broadcast = event["subEvent"]
    assert broadcast["@type"] == "BroadcastEvent" and broadcast["isLiveBroadcast"] is True
    assert broadcast["startDate"] == "2026-09-22T17:00:00+00:00" and broadcast["endDate"] == "2026-09-22T18:00:00+00:00"
    assert broadcast["location"] == event["location"] and broadcast["broadcastOfEvent"] == {"@id": event["@id"]}

    # The show's own picture comes first; in French, the words are French.
    cover = {"cover_image_url": "https://cdn.example.test/cover.jpg"}
    assert (await client.patch(f"/api/v1/shows/{show['id']}", json=cover, headers=manager.headers)).ok
    _, french = await head_of(client, f"/watch/{episode['id']}?lang=fr")
    assert french.meta["og:image"] == "https://cdn.example.test/cover.jpg" and french.meta["og:locale"] == "fr_FR"
    assert french.meta["og:description"].startswith(
        "Shopping en direct avec Acme Paris, mardi 22 septembre 2026, 19:00."
    )


async def test_a_hostile_title_stays_data_in_the_tags_and_the_json_ld(client: Any, factory: Factory) -> None:
    _, _, episodes = await planned(factory, title=HOSTILE)
    response, page = await head_of(client, f"/watch/{episodes[0]['id']}")
    text = await response.text()
    # One script runs, the page's own; the other block is data, and holds the title exactly.
    assert sorted((str(attrs.get("type")), str(attrs.get("src"))) for attrs, _ in page.scripts) == [
        ("application/ld+json", "None"),
        ("module", "/static/dist/watch.js"),
    ]
    assert "alert(1)</script>" not in text and "<!-- sale" not in text
    assert structured(page)["name"] == HOSTILE and page.meta["og:title"] == HOSTILE
    assert page.title == f"{HOSTILE} · Shopcast"
    # The page's policy is unchanged: the data block needs no exception to it.
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]


async def test_a_cancelled_a_moved_and_a_finished_episode_say_so(
    client: Any, factory: Factory, clock: SettableClock
) -> None:
    manager, _, episodes = await planned(factory)
    first, second, third = (e["id"] for e in episodes[:3])
    cancelled = await client.post(f"/api/v1/episodes/{second}/cancel", headers=manager.headers)
    assert cancelled.status == 200, await cancelled.text()
    moved = await client.patch(
        f"/api/v1/episodes/{third}", json={"starts_at": "2026-10-07T20:00"}, headers=manager.headers
    )
    assert moved.status == 200, await moved.text()

    _, page = await head_of(client, f"/watch/{second}")
    assert structured(page)["eventStatus"] == "https://schema.org/EventCancelled"
    assert page.meta["og:description"].startswith("Cancelled: the live shopping with Acme Paris of Tuesday")
    _, page = await head_of(client, f"/watch/{third}")
    event = structured(page)
    assert event["eventStatus"] == "https://schema.org/EventRescheduled"
    assert (
        event["startDate"] == "2026-10-07T20:00:00+02:00" and event["previousStartDate"] == "2026-10-06T17:00:00+00:00"
    )

    # Once aired: the broadcast's real times, and the replay to shop.
    clock.advance(days=2, hours=7)  # Tuesday 22 Sep, 19:00 Paris
    host = await factory.staff("acme", Role.HOST)  # signed in now: the manager's token is two days old
    assert (await client.post(f"/api/v1/episodes/{first}/start", headers=host.headers)).status == 200
    _, page = await head_of(client, f"/watch/{first}")
    assert page.meta["og:description"] == "On air now: live shopping with Acme Paris."
    clock.advance(minutes=50)
    assert (await client.post(f"/api/v1/episodes/{first}/end", headers=host.headers)).status == 200
    _, page = await head_of(client, f"/watch/{first}")
    broadcast = structured(page)["subEvent"]
    assert (broadcast["startDate"], broadcast["endDate"]) == ("2026-09-22T17:00:00+00:00", "2026-09-22T17:50:00+00:00")
    assert page.meta["og:description"].startswith("The replay of the live shopping with Acme Paris of Tuesday")
    assert page.meta["twitter:card"] == "summary" and "og:image" not in page.meta  # no picture anywhere


async def test_an_unknown_episode_has_no_tags_and_the_staff_pages_are_not_for_crawlers(client: Any) -> None:
    response, page = await head_of(client, f"/watch/{uuid.uuid4()}")
    assert response.status == 404  # the page's script says there is no such show; a crawler hears it too
    assert page.meta == {"viewport": page.meta["viewport"], "color-scheme": "light dark"}
    assert [attrs.get("type") for attrs, _ in page.scripts] == ["module"]
    assert (await client.get("/watch/not-an-episode")).status == 404
    robots = await client.get("/robots.txt")
    assert robots.status == 200 and robots.content_type == "text/plain"
    rules = (await robots.text()).splitlines()
    assert rules[0] == "User-agent: *" and {"Disallow: /manage", "Disallow: /studio/", "Disallow: /claim/"} <= set(
        rules
    )
    assert not any(rule.startswith("Disallow: /watch") or rule == "Disallow: /" for rule in rules)


def test_json_for_a_script_escapes_what_html_would_read() -> None:
    data = {"name": "</script><!-- & \u2028", "ok": "é"}
    text = str(json_for_script(data))
    assert not any(c in text for c in "<>&\u2028") and "é" in text
    assert json.loads(text) == data


def test_a_picture_on_shopcast_itself_is_made_absolute() -> None:
    episode = EpisodeOut.model_validate(
        {
            "id": uuid.uuid4(),
            "show_id": uuid.uuid4(),
            "show_title": "Tuesday Night Live",
            "title": "Spring edit",
            "starts_at": "2026-09-22T17:00:00Z",
            "ends_at": "2026-09-22T18:00:00Z",
            "starts_at_local": "2026-09-22T19:00:00+02:00",
            "time_zone": "Europe/Paris",
            "duration_minutes": 60,
            "status": EpisodeStatus.SCHEDULED,
            "host_id": None,
            "host_name": None,
            "is_one_off": False,
            "is_moved": False,
        }
    )
    preview = EpisodePreview(
        episode=episode,
        show_description="",
        cover_image_url=None,
        previous_starts_at=None,
        brand_name="Acme",
        brand_language="en",
    )
    tags = share_tags(preview, base_url="https://shop.example", picture="/pictures/ab-1080.webp", lang="en")
    assert tags.image == "https://shop.example/pictures/ab-1080.webp"
    assert tags.title == "Spring edit · Tuesday Night Live" and tags.page_title == "Spring edit · Shopcast"


@pytest.mark.parametrize("settings", [60.0], indirect=True)
async def test_an_audience_arriving_together_costs_one_lookup_of_the_preview(client: Any, factory: Factory) -> None:
    _, _, episodes = await planned(factory)
    with statements_sent(client, "FROM episodes") as looked_up:
        pages = await asyncio.gather(*(head_of(client, f"/watch/{episodes[0]['id']}") for _ in range(40)))
        again = await head_of(client, f"/watch/{episodes[0]['id']}?lang=fr")
    assert {page.meta["og:title"] for _, page in pages} == {episodes[0]["title"]}
    assert again[1].meta["og:locale"] == "fr_FR"  # kept: the episode, not its page in one language
    assert len(looked_up) == 1, looked_up
