"""replay viewers: watch sessions of the replay (a player's beats) apart from the live room's, and the
replay's card views apart from the live's

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watch_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replay", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index("ix_watch_sessions_viewer", ["episode_id", "viewer_id"], unique=False)
    # A viewer of the live who sees the card again over the replay is one more card view, of the replay.
    with op.batch_alter_table("card_views", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replay", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint("pk_card_views", type_="primary")
        batch_op.create_primary_key("pk_card_views", ["pin_id", "viewer_kind", "viewer_id", "replay"])


def downgrade() -> None:
    # The replay's card views of viewers who saw the card live too would collide with theirs.
    op.execute(sa.text("DELETE FROM card_views WHERE replay"))
    with op.batch_alter_table("card_views", schema=None) as batch_op:
        batch_op.drop_constraint("pk_card_views", type_="primary")
        batch_op.create_primary_key("pk_card_views", ["pin_id", "viewer_kind", "viewer_id"])
        batch_op.drop_column("replay")
    with op.batch_alter_table("watch_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_watch_sessions_viewer")
        batch_op.drop_column("replay")
