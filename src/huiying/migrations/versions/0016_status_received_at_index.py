"""The queue of one status (`?status=new`), newest first, read straight off an index.

(status, id) could find the new tickets but not in received order: SQLite sorted all of them
(20,000 of 100,000 tickets: ~60 ms a page) and PostgreSQL walked the received_at index
filtering out the other statuses, which gets slower the rarer the status. (status,
received_at, id) serves both the filter and the order, and replaces (status, id): nothing
else needs tickets of one status in id order, and intake keeps writing as many indexes.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_status_received_at_id", "tickets", ["status", "received_at", "id"], unique=False)
    op.drop_index("ix_tickets_status_id", table_name="tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_status_id", "tickets", ["status", "id"], unique=False)
    op.drop_index("ix_tickets_status_received_at_id", table_name="tickets")
