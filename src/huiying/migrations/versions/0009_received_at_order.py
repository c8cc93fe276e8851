"""Ticket lists sort by the time feedback was received (newest/oldest): indexes that keep that
order cheap for every list and for the queues (which lead with the active flag).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_received_at_id": ["received_at", "id"],
    "ix_tickets_active_received_at_id": ["active", "received_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
