"""giveaways: entries, draws, winners and their claims

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "giveaways",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("prize_title", sa.String(length=200), nullable=False),
        sa.Column("prize_picture_url", sa.String(length=1000), nullable=True),
        sa.Column("prize_value", sa.Integer(), nullable=False),
        sa.Column("prize_currency", sa.String(length=3), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("entry", sa.String(length=8), nullable=False),
        sa.Column("keyword", sa.String(length=30), nullable=True),
        sa.Column("present_at_draw", sa.Boolean(), nullable=False),
        sa.Column("min_watch_minutes", sa.Integer(), nullable=False),
        sa.Column("bought_during_show", sa.Boolean(), nullable=False),
        sa.Column("claim_hours", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column("commitment", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_giveaways_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_giveaways_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giveaways")),
        sa.UniqueConstraint("seed", name=op.f("uq_giveaways_seed")),
    )
    op.create_index("ix_giveaways_episode", "giveaways", ["episode_id", "created_at"], unique=False)
    op.create_table(
        "giveaway_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("giveaway_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_kind", sa.String(length=8), nullable=False),
        sa.Column("viewer_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["giveaway_id"],
            ["giveaways.id"],
            name=op.f("fk_giveaway_entries_giveaway_id_giveaways"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giveaway_entries")),
        sa.UniqueConstraint(
            "giveaway_id",
            "viewer_kind",
            "viewer_id",
            name=op.f("uq_giveaway_entries_giveaway_id_viewer_kind_viewer_id"),
        ),
    )
    op.create_table(
        "giveaway_rounds",
        sa.Column("giveaway_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prizes", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.JSON(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["giveaway_id"], ["giveaways.id"], name=op.f("fk_giveaway_rounds_giveaway_id_giveaways"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("giveaway_id", "round", name=op.f("pk_giveaway_rounds")),
    )
    op.create_table(
        "giveaway_winners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("giveaway_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("claim_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.JSON(), nullable=True),
        sa.Column("redrawn_in", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["giveaway_entries.id"],
            name=op.f("fk_giveaway_winners_entry_id_giveaway_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["giveaway_id"],
            ["giveaways.id"],
            name=op.f("fk_giveaway_winners_giveaway_id_giveaways"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_giveaway_winners")),
        sa.UniqueConstraint("giveaway_id", "entry_id", name=op.f("uq_giveaway_winners_giveaway_id_entry_id")),
    )


def downgrade() -> None:
    op.drop_table("giveaway_winners")
    op.drop_table("giveaway_rounds")
    op.drop_table("giveaway_entries")
    op.drop_index("ix_giveaways_episode", table_name="giveaways")
    op.drop_table("giveaways")
