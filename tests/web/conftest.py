"""Fixtures of the web tests: an episode to join."""

from __future__ import annotations

from typing import Any

import pytest

from shopcast.core.security import Role
from tests.factories import Factory


@pytest.fixture
async def episode(factory: Factory) -> dict[str, Any]:
    """A scheduled episode of a weekly show of brand "acme", and the manager who planned it."""
    await factory.brand("acme")
    manager = await factory.staff("acme", Role.MANAGER)
    show = await factory.show("acme", manager)
    return {"id": (await factory.episodes(show["id"], manager))[0]["id"], "manager": manager}
