"""brands: the default language of their pages (for visitors whose browser asks for none Shopcast has)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("brands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_language", sa.String(length=8), server_default="en", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("brands", schema=None) as batch_op:
        batch_op.drop_column("default_language")
