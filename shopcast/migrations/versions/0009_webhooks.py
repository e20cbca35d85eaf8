"""webhooks: the brands' endpoints; the outbox keeps each attempt's HTTP status, counts retries from a
replay, and finds a recipient's messages

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts_at_replay", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_outbox_messages_recipient", ["recipient", "created_at"], unique=False)
    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_code", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.drop_column("status_code")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_recipient")
        batch_op.drop_column("attempts_at_replay")
