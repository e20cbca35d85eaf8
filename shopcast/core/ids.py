"""Identifiers: random UUIDs, so ids in URLs reveal neither counts nor order."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()
