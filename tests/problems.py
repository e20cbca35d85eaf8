"""What a refused HTTP request tells its user: the status and the reason in the problem's detail."""

from __future__ import annotations

from typing import Any


async def refused(response: Any, status: int, reason: str) -> dict[str, Any]:
    """The problem a refused request got: its status, and its detail naming the reason."""
    body = await response.json()
    assert response.status == status, body
    assert response.content_type == "application/problem+json", response.content_type
    assert reason in body["detail"], body
    return body
