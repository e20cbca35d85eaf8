"""chat, moderation and watch time

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_restrictions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_kind", sa.String(length=8), nullable=False),
        sa.Column("viewer_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_ref", sa.String(length=32), nullable=False),
        sa.Column("viewer_name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_chat_restrictions_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_chat_restrictions_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_restrictions")),
    )
    with op.batch_alter_table("chat_restrictions", schema=None) as batch_op:
        batch_op.create_index("ix_chat_restrictions_viewer", ["brand_id", "viewer_kind", "viewer_id"], unique=False)

    op.create_table(
        "chat_rules",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("banned_words", sa.JSON(), nullable=False),
        sa.Column("banned_words_action", sa.String(length=8), nullable=False),
        sa.Column("allow_links", sa.Boolean(), nullable=False),
        sa.Column("allowed_link_domains", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_chat_rules_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("brand_id", name=op.f("pk_chat_rules")),
    )
    op.create_table(
        "chat_messages",
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("author_kind", sa.String(length=8), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_ref", sa.String(length=32), nullable=False),
        sa.Column("author_name", sa.String(length=80), nullable=False),
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reply_to_id", sa.Uuid(), nullable=True),
        sa.Column("question", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shadowed", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_chat_messages_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_chat_messages_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_messages_reply_to_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("id", name=op.f("uq_chat_messages_id")),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_chat_messages_episode_number", ["episode_id", "number"], unique=False)

    op.create_table(
        "chat_moderation_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("message_text", sa.Text(), nullable=True),
        sa.Column("viewer_name", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_chat_moderation_log_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_chat_moderation_log_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episodes.id"],
            name=op.f("fk_chat_moderation_log_episode_id_episodes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_moderation_log")),
    )
    with op.batch_alter_table("chat_moderation_log", schema=None) as batch_op:
        batch_op.create_index("ix_chat_moderation_log_episode", ["episode_id", "created_at"], unique=False)

    op.create_table(
        "chat_reaction_totals",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("emoji", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episodes.id"],
            name=op.f("fk_chat_reaction_totals_episode_id_episodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("episode_id", "emoji", name=op.f("pk_chat_reaction_totals")),
    )
    op.create_table(
        "watch_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_kind", sa.String(length=12), nullable=False),
        sa.Column("viewer_id", sa.Uuid(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_watch_sessions_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_sessions")),
    )
    with op.batch_alter_table("watch_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_watch_sessions_episode", ["episode_id", "joined_at"], unique=False)

    op.create_table(
        "chat_rooms",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("pinned_message_id", sa.Uuid(), nullable=True),
        sa.Column("slow_mode_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_chat_rooms_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pinned_message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_rooms_pinned_message_id_chat_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("episode_id", name=op.f("pk_chat_rooms")),
    )


def downgrade() -> None:
    op.drop_table("chat_rooms")
    with op.batch_alter_table("watch_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_sessions_episode")

    op.drop_table("watch_sessions")
    op.drop_table("chat_reaction_totals")
    with op.batch_alter_table("chat_moderation_log", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_moderation_log_episode")

    op.drop_table("chat_moderation_log")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_messages_episode_number")

    op.drop_table("chat_messages")
    op.drop_table("chat_rules")
    with op.batch_alter_table("chat_restrictions", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_restrictions_viewer")

    op.drop_table("chat_restrictions")
