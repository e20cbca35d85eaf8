"""A live episode with a product to sell (the shop's fixtures) and the live room's viewers."""

from tests.catalog.conftest import Join, Shop, join, room, shop  # noqa: F401

__all__ = ["Join", "Shop"]
