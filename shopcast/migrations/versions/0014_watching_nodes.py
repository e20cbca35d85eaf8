"""watch sessions name the app process holding them, and each process notes when it was last alive:
the sessions a process that died left open are closed for it

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watching_nodes",
        sa.Column("id", sa.String(length=8), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watching_nodes")),
    )
    with op.batch_alter_table("watch_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node", sa.String(length=8), nullable=True))
        batch_op.create_index(
            "ix_watch_sessions_open",
            ["node"],
            unique=False,
            postgresql_where=sa.text("left_at IS NULL"),
            sqlite_where=sa.text("left_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("watch_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_sessions_open", postgresql_where=sa.text("left_at IS NULL"))
        batch_op.drop_column("node")
    op.drop_table("watching_nodes")
