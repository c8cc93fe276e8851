"""Macros (canned replies) and the name a user wants to be called by.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_macros_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    # A plain ALTER: a batch copy of tickets would drop the SQLite search triggers.
    op.add_column("tickets", sa.Column("user_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN user_name")
    op.drop_table("macros")
