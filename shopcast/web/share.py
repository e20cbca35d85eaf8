"""An episode's watch page as a link to it is shared and indexed: Open Graph and Twitter card tags for
link previews in messaging apps, and schema.org `Event` / `BroadcastEvent` data for search engines.

Addresses are absolute, under SHOPCAST_PUBLIC_URL when it is set (else the address the page was asked
at). The tags are attributes, escaped by the template; the JSON-LD is JSON in a `<script>` data block,
where HTML escaping does not apply: every `<`, `>` and `&` in it is written as a JSON escape, so no text
of the brand's (a title saying `</script>`) can end the block or start markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from babel.core import get_global
from babel.dates import format_date, format_time
from markupsafe import Markup

from shopcast.core.catalogues import translate
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.live.schemas import EpisodePreview

DESCRIPTION_CHARS = 200  # what link previews show, about
SCHEMA = "https://schema.org/"
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class ShareTags:
    """What watch.html writes in its head for an episode."""

    page_title: str
    title: str
    description: str
    url: str
    image: str | None
    image_alt: str
    site_name: str
    locale: str
    starts_at: str
    json_ld: Markup


def json_for_script(data: Any) -> Markup:
    """JSON safe inside a `<script>` element: the same data, no character that HTML would read."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for character, escaped in _JSON_ESCAPES.items():
        text = text.replace(character, escaped)
    return Markup(text)  # escaped above, for a script's raw text rather than for HTML


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _when(moment: datetime, zone: str, lang: str) -> str:
    """ "Tuesday, December 15, 2026, 7:00 PM", in the show's time zone and the page's language."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_date(local, 'full', locale=lang)}, {format_time(local, 'short', locale=lang)}"


def _og_locale(lang: str) -> str:
    """Open Graph's language_TERRITORY: the language's most likely one (fr -> fr_FR, en -> en_US)."""
    likely = str(get_global("likely_subtags").get(lang, lang)).split("_")
    return f"{lang}_{likely[-1]}" if len(likely) > 1 else lang


def _description(preview: EpisodePreview, lang: str) -> str:
    episode = preview.episode
    key = {
        EpisodeStatus.LIVE: "share.live",
        EpisodeStatus.ENDED: "share.replay",
        EpisodeStatus.CANCELLED: "share.cancelled",
    }.get(episode.status, "share.coming")
    when = _when(episode.starts_at, episode.time_zone, lang)
    text = translate(lang, key, brand=preview.brand_name, time=when)
    if preview.show_description.strip():
        text = f"{text} {' '.join(preview.show_description.split())}"
    return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1].rstrip() + "…"


def _event_status(preview: EpisodePreview) -> str:
    if preview.episode.status == EpisodeStatus.CANCELLED:
        return f"{SCHEMA}EventCancelled"
    return f"{SCHEMA}EventRescheduled" if preview.episode.is_moved else f"{SCHEMA}EventScheduled"


def structured_data(preview: EpisodePreview, *, name: str, description: str, url: str, image: str | None) -> Any:
    """The episode as schema.org sees it: an online `Event` whose `BroadcastEvent` is the live."""
    episode = preview.episode
    online = {
        "eventStatus": _event_status(preview),
        "eventAttendanceMode": f"{SCHEMA}OnlineEventAttendanceMode",
        "location": {"@type": "VirtualLocation", "url": url},
    }
    event: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": f"{url}#event",
        "name": name,
        "description": description,
        "url": url,
        "startDate": _iso(episode.starts_at_local),
        "endDate": _iso(episode.starts_at_local + (episode.ends_at - episode.starts_at)),
        **online,
        "organizer": {"@type": "Organization", "name": preview.brand_name},
    }
    if preview.previous_starts_at is not None:
        event["previousStartDate"] = _iso(preview.previous_starts_at)
    if image:
        event["image"] = [image]
    event["subEvent"] = {
        "@type": "BroadcastEvent",
        "name": name,
        "isLiveBroadcast": True,
        "url": url,
        # When it was on air, once it was; until then, when it is planned.
        "startDate": _iso(episode.went_live_at or episode.starts_at),
        "endDate": _iso(episode.ended_at or episode.ends_at),
        **online,
        "broadcastOfEvent": {"@id": f"{url}#event"},
    }
    return event


def share_tags(preview: EpisodePreview, *, base_url: str, picture: str | None, lang: str) -> ShareTags:
    """The tags of the episode's watch page in `lang`; `picture` (a path or an address) its cover."""
    episode = preview.episode
    same = episode.title.strip().casefold() == episode.show_title.strip().casefold()
    title = episode.title if same else f"{episode.title} · {episode.show_title}"
    url = f"{base_url}/watch/{episode.id}"
    image = urljoin(f"{base_url}/", picture) if picture else None
    description = _description(preview, lang)
    return ShareTags(
        page_title=f"{episode.title} · Shopcast",
        title=title,
        description=description,
        url=url,
        image=image,
        image_alt=episode.show_title,
        site_name=preview.brand_name,
        locale=_og_locale(lang),
        starts_at=_iso(episode.starts_at_local),
        json_ld=json_for_script(structured_data(preview, name=title, description=description, url=url, image=image)),
    )
