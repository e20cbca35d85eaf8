"""The API's reasons in French and English: a refused request is told why in the language it asks
for (English when it asks for none), and every reason the code can give is in every catalogue."""

from __future__ import annotations

import ast
import re
import typing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shopcast.catalog.schemas import OrderStatus
from shopcast.contests.schemas import Status as GiveawayStatus
from shopcast.core import errors
from shopcast.core.security import Role
from shopcast.live.lifecycle import EpisodeStatus
from shopcast.polls.schemas import PollStatus
from shopcast.web import language
from shopcast.web.middleware import _HTTP_SLUGS
from tests.factories import Factory
from tests.web.test_languages import REPO, fields

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}
NBSP, APOSTROPHE = "\N{NO-BREAK SPACE}", "\N{RIGHT SINGLE QUOTATION MARK}"
KEY = re.compile(r"errors(\.[a-z0-9_-]+)+")
# What raises or words a reason: its first argument is a key, its keywords the key's placeholders.
SAYERS = {name for name, kind in vars(errors).items() if isinstance(kind, type) and issubclass(kind, Exception)}
SAYERS |= {"Phrase"}
NOT_PLACEHOLDERS = {"extra", "retry_after"}


@dataclass
class Use:
    where: str
    key: str  # a whole key, or the start of keys made at run time (f"errors.episode_status.{…}")
    made: bool
    given: set[str] | None  # the placeholders a call fills, when all are named there


def uses() -> Iterator[Use]:
    for path in sorted((REPO / "shopcast").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        parts = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
            if id(node) in parts:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.fullmatch(node.value):
                yield Use(where, node.value, False, None)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                start = str(node.values[0].value)
                if start.startswith("errors."):
                    yield Use(where, start, True, None)
            elif isinstance(node, ast.Call) and node.args:
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                first = node.args[0]
                if name not in SAYERS:
                    continue
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    # A sentence instead of a key fails below: it is in no catalogue.
                    named = all(k.arg is not None for k in node.keywords)
                    given = {str(k.arg) for k in node.keywords} - NOT_PLACEHOLDERS
                    yield Use(where, first.value, False, given if named else None)
                elif isinstance(first, ast.JoinedStr) and not ast.unparse(first)[2:].startswith("errors."):
                    yield Use(where, ast.unparse(first), False, None)


def test_every_reason_the_code_gives_is_in_every_catalogue_with_the_placeholders_it_fills() -> None:
    english = language.catalogues()["en"]
    found = list(uses())
    assert len(found) > 300, "the walk found too few keys"
    for use in found:
        if use.made:
            assert any(key.startswith(use.key) for key in english), use
            continue
        for code, catalogue in language.catalogues().items():
            assert use.key in catalogue, (code, use)
        if use.given is not None:
            assert use.given == fields(english[use.key]), use
    # And no reason is left over that nothing says any more.
    said = [use.key for use in found]
    unused = {key for key in english if key.startswith("errors.") and not any(key.startswith(s) for s in said)}
    assert not unused, unused


def test_every_status_role_and_problem_has_its_words() -> None:
    made = [
        *(f"errors.episode{part}{status.value}" for status in EpisodeStatus for part in ("_status.", ".a_", ".to_")),
        *(f"errors.poll_status.{status}" for status in typing.get_args(PollStatus)),
        *(f"errors.giveaway_status.{status}" for status in typing.get_args(GiveawayStatus)),
        *(f"errors.order_status.{status}" for status in typing.get_args(OrderStatus)),
        *(f"errors.role.{role.value}" for role in Role),
        *(f"errors.title.{slug.replace('-', '_')}" for slug in [*_HTTP_SLUGS.values(), "http-error"]),
    ]
    for catalogue in language.catalogues().values():
        assert set(made) <= set(catalogue), set(made) - set(catalogue)
    kinds = [
        kind for kind in vars(errors).values() if isinstance(kind, type) and issubclass(kind, errors.ShopcastError)
    ]
    assert {kind.title.key for kind in kinds} <= set(language.catalogues()["fr"])


def test_a_value_is_inserted_as_text_and_a_phrase_in_the_same_language() -> None:
    Phrase = errors.Phrase
    refused = errors.Conflict("errors.cart.not_for_sale", title="{title} {0} {count.real}")
    assert refused.reason.in_language("fr") == f"{{title}} {{0}} {{count.real}} n{APOSTROPHE}est plus en vente"
    status = errors.Conflict("errors.chat.closed", status=EpisodeStatus.ENDED.word)
    assert status.reason.in_language("fr") == f"l{APOSTROPHE}épisode est terminé{NBSP}: son chat est fermé"
    assert status.detail == "the episode is ended: its chat is closed"
    one_size = Phrase("errors.cart.item", product="Tote", variant=Phrase("errors.cart.one_size"))
    assert one_size.in_language("fr") == "Tote (Taille unique)" and str(one_size) == "Tote (One size)"


async def problem(response: Any, status: int, detail: str, title: str | None = None) -> dict[str, Any]:
    body = await response.json()
    assert (response.status, body["status"], body["detail"]) == (status, status, detail), body
    assert response.content_type == "application/problem+json"
    assert title is None or body["title"] == title, body
    return body


async def test_a_french_request_is_refused_in_french(client: Any, factory: Factory, episode: dict[str, Any]) -> None:
    route = await client.get("/api/v1/nothing-here", headers=FRENCH)
    await problem(route, 404, "aucune route GET /api/v1/nothing-here", "Introuvable")
    assert route.headers["Content-Language"] == "fr"
    gone = uuid.uuid4()
    await problem(await client.get(f"/api/v1/public/episodes/{gone}", headers=FRENCH), 404, f"aucun épisode {gone}")
    me = await client.get("/api/v1/me", headers=FRENCH)
    body = await problem(me, 401, f"il faut un jeton d{APOSTROPHE}accès{NBSP}: connectez-vous d{APOSTROPHE}abord")
    assert (body["title"], body["type"]) == (f"Connectez-vous d{APOSTROPHE}abord", "urn:shopcast:problem:unauthorized")
    assert me.headers["WWW-Authenticate"] == "Bearer"
    # The episode's status is put in French too.
    manager = {**episode["manager"].headers, **FRENCH}
    pinned = await client.post(f"/api/v1/episodes/{episode['id']}/pin", json={"product_id": str(gone)}, headers=manager)
    said = f"l{APOSTROPHE}épisode est programmé{NBSP}: les produits s{APOSTROPHE}épinglent pendant le direct"
    await problem(pinned, 409, said, f"Impossible dans l{APOSTROPHE}état actuel")
    # Pydantic's refusals by their type, and our validators' own.
    long = await client.post("/api/v1/auth/guest", json={"nickname": "x" * 40}, headers=FRENCH)
    body = await problem(
        long, 422, f"nickname{NBSP}: doit contenir au plus 32 caractères", "Certains champs ne sont pas valides"
    )
    assert body["errors"] == [{"field": "nickname", "reason": "doit contenir au plus 32 caractères"}]
    show = {
        "title": "Live",
        "time_zone": "Mars/Olympus",
        "rrule": "FREQ=WEEKLY",
        "first_episode_at": "2026-10-06T19:00",
    }
    zone = await client.post("/api/v1/brands/acme/shows", json=show, headers=manager)
    said = f"fuseau horaire inconnu «{NBSP}Mars/Olympus{NBSP}»{NBSP}: utilisez un nom IANA comme Europe/Paris"
    assert (await problem(zone, 422, f"time_zone{NBSP}: {said}"))["errors"] == [{"field": "time_zone", "reason": said}]


async def test_a_french_client_slowed_down_is_told_in_french(client: Any) -> None:
    for _ in range(30):
        assert (await client.post("/api/v1/auth/guest", json={})).status == 201
    slowed = await client.post("/api/v1/auth/guest", json={}, headers=FRENCH)
    said = f"trop de connexions d{APOSTROPHE}invités{NBSP}; réessayez dans 300 s"
    body = await problem(slowed, 429, said, "Ralentissez")
    assert (body["retry_after"], slowed.headers["Retry-After"]) == (300, "300")


@pytest.mark.parametrize("headers", [{}, {"Accept-Language": "en-GB,en;q=0.9"}, {"Accept-Language": "de-DE"}])
async def test_a_request_asking_for_no_language_we_have_is_refused_in_english(
    client: Any, episode: dict[str, Any], headers: dict[str, str]
) -> None:
    route = await client.get("/api/v1/nothing-here", headers=headers)
    await problem(route, 404, "no route GET /api/v1/nothing-here", "Not found")
    assert route.headers["Content-Language"] == "en"
    manager = {**episode["manager"].headers, **headers}
    pinned = await client.post(
        f"/api/v1/episodes/{episode['id']}/pin", json={"product_id": str(uuid.uuid4())}, headers=manager
    )
    await problem(pinned, 409, "the episode is scheduled: pins are shown during the live")
    long = await client.post("/api/v1/auth/guest", json={"nickname": "x" * 40}, headers=headers)
    await problem(long, 422, "nickname: String should have at most 32 characters", "Some fields are not valid")


async def test_the_language_can_be_named_in_the_address_as_pages_do(client: Any) -> None:
    route = await client.get("/api/v1/nothing-here?lang=fr", headers={"Accept-Language": "en"})
    await problem(route, 404, "aucune route GET /api/v1/nothing-here", "Introuvable")
    # A cache in front keeps one copy of a refusal per language it may be asked in.
    assert route.headers["Vary"] == "Accept-Language, Cookie"
