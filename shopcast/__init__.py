"""Shopcast: a self-hostable live-commerce backend."""

__version__ = "0.1.0"
