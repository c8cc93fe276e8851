"""Triage: rules admins edit, model versions, labels from people, and each ticket's decision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "triage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_models")),
    )
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.create_index("ix_triage_models_target_version", ["target", "version"], unique=True)

    op.create_table(
        "triage_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_triage_rules_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_rules")),
    )
    op.create_table(
        "triage_labels",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_triage_labels_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_triage_labels_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_labels")),
    )
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.create_index("ix_triage_labels_target_id", ["target", "id"], unique=False)

    # A plain ALTER: a batch copy of tickets would drop the SQLite search triggers.
    op.add_column("tickets", sa.Column("triage", JSON, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN triage")

    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_labels_target_id")

    op.drop_table("triage_labels")
    op.drop_table("triage_rules")
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_models_target_version")

    op.drop_table("triage_models")
