"""Realtime events of the chat, published to the episode's room (docs/api.md lists each)."""

from __future__ import annotations

CHAT_MESSAGE = "chat:message"
CHAT_DELETED = "chat:deleted"
CHAT_ANSWERED = "chat:answered"
CHAT_PINNED = "chat:pinned"
CHAT_UNPINNED = "chat:unpinned"
CHAT_SLOW_MODE = "chat:slow-mode"
VIEWER_REMOVED = "chat:viewer-removed"
# Passing state: signals with the room's latest seq, never kept for catch-up.
CHAT_REACTIONS = "chat:reactions"
PRESENCE_COUNT = "presence:count"
