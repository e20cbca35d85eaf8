"""The docs cannot silently fall behind: every setting, route, event and command is in them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopcast.catalog import events as shop_events
from shopcast.cli import _parser
from shopcast.core.settings import Settings
from shopcast.live import events
from shopcast.polls import events as poll_events
from shopcast.web.app import APIS
from shopcast.web.routes.system import api_document
from shopcast.web.sockets import CLIENT_EVENTS
from shopcast.webhooks import events as webhook_events

ROOT = Path(__file__).resolve().parent.parent
API = (ROOT / "docs" / "api.md").read_text()
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"SHOPCAST_{name.upper()}" in OPERATIONS


@pytest.mark.parametrize(
    ("method", "path"),
    sorted((method.upper(), path) for path, item in api_document(APIS)["paths"].items() for method in item),
)
def test_every_route_is_documented(method: str, path: str) -> None:
    assert f"`{method} {path}" in API


SHOP_EVENTS = [value for name, value in vars(shop_events).items() if name.isupper()]
POLL_EVENTS = [value for name, value in vars(poll_events).items() if name.isupper()]


@pytest.mark.parametrize(
    "event",
    sorted(
        [
            *events.EVENT_FOR_STATUS.values(),
            *CLIENT_EVENTS,
            *SHOP_EVENTS,
            *POLL_EVENTS,
            *webhook_events.EVENTS,
            webhook_events.WEBHOOK_TEST,
        ]
    ),
)
def test_every_event_is_documented(event: str) -> None:
    assert f"`{event}`" in API


def _commands() -> list[str]:
    found = []
    parser = _parser()
    for action in parser._subparsers._group_actions:  # argparse keeps sub-commands here
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            found += [f"{name} {child}" for a in nested for child in a.choices] or [name]
    return found


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented(command: str) -> None:
    assert f"`shopcast {command}" in API


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```(?:sh|bash)?\n(.*?)```", README, re.S)
    assert first_block is not None
    assert first_block.group(1).strip().splitlines() == ["make run", "make test"]
