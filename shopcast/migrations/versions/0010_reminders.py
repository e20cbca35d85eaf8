"""reminders: the brands' contacts and unsubscribes, viewers' episode reminders with their consent; brands'
reminder and cart follow-up delays; carts' checkout email and follow-up; giveaway winners told

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("brands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_lead_minutes", sa.Integer(), server_default="15", nullable=False))
        batch_op.add_column(sa.Column("cart_follow_up_minutes", sa.Integer(), server_default="60", nullable=True))
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("email_language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("email_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("giveaway_winners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_contacts_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("brand_id", "email", name=op.f("uq_contacts_brand_id_email")),
    )
    op.create_table(
        "episode_reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("live_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_told_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_episode_reminders_brand_id_brands"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_episode_reminders_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_episode_reminders_episode_id_episodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episode_reminders")),
        sa.UniqueConstraint("episode_id", "contact_id", name=op.f("uq_episode_reminders_episode_id_contact_id")),
    )
    op.create_index(op.f("ix_episode_reminders_contact_id"), "episode_reminders", ["contact_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_episode_reminders_contact_id"), table_name="episode_reminders")
    op.drop_table("episode_reminders")
    op.drop_table("contacts")
    with op.batch_alter_table("giveaway_winners", schema=None) as batch_op:
        batch_op.drop_column("told_at")
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_column("followed_up_at")
        batch_op.drop_column("email_at")
        batch_op.drop_column("email_language")
        batch_op.drop_column("email")
    with op.batch_alter_table("brands", schema=None) as batch_op:
        batch_op.drop_column("cart_follow_up_minutes")
        batch_op.drop_column("reminder_lead_minutes")
