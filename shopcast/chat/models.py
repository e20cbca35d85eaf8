from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from shopcast.core.db import Base
from shopcast.core.ids import new_id


class ChatRules(Base):
    """A brand's rules for its chats: banned words and links."""

    __tablename__ = "chat_rules"

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    banned_words: Mapped[list[str]] = mapped_column(JSON, default=list)
    banned_words_action: Mapped[str] = mapped_column(String(8), default="mask")  # "mask" | "reject"
    allow_links: Mapped[bool] = mapped_column(default=False)
    allowed_link_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]


class ChatMessage(Base):
    """One message in an episode's chat, kept for the replay (deleted ones only hidden)."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_episode_number", "episode_id", "number"),)

    # The order messages were written in (timestamps can tie); never shown: `id` is the public one.
    number: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    # Guests have no row anywhere: the author is known by kind + id (the token's subject).
    author_kind: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[uuid.UUID]
    author_ref: Mapped[str] = mapped_column(String(32))
    author_name: Mapped[str] = mapped_column(String(80))
    author_role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    reply_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("chat_messages.id", ondelete="SET NULL"))
    question: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None]
    # Sent while its author was shadow-banned: only the author ever sees it.
    shadowed: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ChatRoom(Base):
    """An episode's chat state that outlives any process: the pinned message and slow mode."""

    __tablename__ = "chat_rooms"

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    pinned_message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("chat_messages.id", ondelete="SET NULL"))
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class ChatRestriction(Base):
    """A ban, time-out or shadow-ban of one viewer (account or guest identity) in a brand's chats."""

    __tablename__ = "chat_restrictions"
    __table_args__ = (Index("ix_chat_restrictions_viewer", "brand_id", "viewer_kind", "viewer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    viewer_kind: Mapped[str] = mapped_column(String(8))
    viewer_id: Mapped[uuid.UUID]
    viewer_ref: Mapped[str] = mapped_column(String(32))
    viewer_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(12))  # "ban" | "timeout" | "shadow_ban"
    until: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]


class ModerationEntry(Base):
    """The audit log: who did what to which message or viewer, with the text as it was."""

    __tablename__ = "chat_moderation_log"
    __table_args__ = (Index("ix_chat_moderation_log_episode", "episode_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    episode_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[uuid.UUID | None]
    message_text: Mapped[str | None] = mapped_column(Text)
    viewer_name: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]


class WatchSession(Base):
    """One viewer watching an episode, for watch-time reports: a connection in its live room, from join
    to leave; or a stretch of its replay played without a pause, from the player's first beat to its
    last (chat/replay_watch.py)."""

    __tablename__ = "watch_sessions"
    __table_args__ = (
        Index("ix_watch_sessions_episode", "episode_id", "joined_at"),
        # A replay beat looks up the viewer's own sessions of the episode.
        Index("ix_watch_sessions_viewer", "episode_id", "viewer_id"),
        # The sessions still open of a process that died are looked up by its node (chat/orphaned_sessions.py).
        Index(
            "ix_watch_sessions_open",
            "node",
            postgresql_where=text("left_at IS NULL"),
            sqlite_where=text("left_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    viewer_kind: Mapped[str] = mapped_column(String(12))  # "user" | "guest" | "anonymous"
    viewer_id: Mapped[uuid.UUID]
    # The replay's sessions are counted apart: a tab left in the room after the show plays nothing.
    replay: Mapped[bool] = mapped_column(default=False, server_default=false())
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    # The app process holding the connection (core/nodes.py), which closes the session when it
    # leaves; None for the replay's, and for sessions from before processes were noted.
    node: Mapped[str | None] = mapped_column(String(8))


class WatchingNode(Base):
    """An app process holding live-room connections, and when it last said it was alive: the watch
    sessions of one not heard from for a while are closed for it (chat/orphaned_sessions.py)."""

    __tablename__ = "watching_nodes"

    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    seen_at: Mapped[datetime]


class ReactionTotal(Base):
    """How many times each emoji was sent during an episode."""

    __tablename__ = "chat_reaction_totals"

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    emoji: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
