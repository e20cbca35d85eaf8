"""report facts: cards seen and units added to carts from an episode; indexes for the episode report

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_views",
        sa.Column("pin_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_kind", sa.String(length=12), nullable=False),
        sa.Column("viewer_id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_card_views_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["pin_id"], ["pins.id"], name=op.f("fk_card_views_pin_id_pins"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pin_id", "viewer_kind", "viewer_id", name=op.f("pk_card_views")),
    )
    op.create_index("ix_card_views_episode", "card_views", ["episode_id", "viewed_at"], unique=False)
    op.create_table(
        "cart_additions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=False),
        sa.Column("shopper_kind", sa.String(length=8), nullable=False),
        sa.Column("shopper_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_cart_additions_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cart_additions_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_cart_additions_variant_id_variants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_additions")),
    )
    op.create_index("ix_cart_additions_episode", "cart_additions", ["episode_id", "added_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cart_additions_episode", table_name="cart_additions")
    op.drop_table("cart_additions")
    op.drop_index("ix_card_views_episode", table_name="card_views")
    op.drop_table("card_views")
