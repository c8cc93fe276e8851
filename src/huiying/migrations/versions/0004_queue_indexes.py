"""Queue indexes: an `active` flag (status new/open/pending) that the queue indexes lead with,
and an index on merged_into_id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_active_id": ["active", "id"],
    "ix_tickets_active_assignee_team": ["active", "assignee_id", "team_id"],
    "ix_tickets_active_refinement_id": ["active", "needs_refinement", "id"],
    "ix_tickets_active_first_response_due": ["active", "first_response_due"],
    "ix_tickets_active_resolution_due": ["active", "resolution_due"],
    "ix_tickets_merged_into_id": ["merged_into_id"],
}


def upgrade() -> None:
    # Plain ALTERs, never a batch copy of tickets (that would drop the SQLite search triggers).
    op.add_column("tickets", sa.Column("active", sa.Boolean(), server_default="1", nullable=False))
    op.execute(
        "UPDATE tickets SET active = CASE WHEN status IN ('new', 'open', 'pending') THEN 1 ELSE 0 END"
        if op.get_bind().dialect.name == "sqlite"
        else "UPDATE tickets SET active = status IN ('new', 'open', 'pending')"
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
    op.execute("ALTER TABLE tickets DROP COLUMN active")
