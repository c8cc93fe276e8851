"""The queues' priority lane (VIPs and special groups first, tickets/repository.py `lane_first`)
read off a small partial index: without it, finding the lane's few tickets walked every active
ticket (SQLite ~90 ms, PostgreSQL a sequential scan ~45 ms a page at 100,000 tickets when the
lane is empty). The predicate is `tickets.LANE_PREDICATE`, word for word: SQLite uses a
partial index only for a query whose WHERE repeats it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

LANE = "vip OR special_group IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_tickets_lane_active_received_at_id",
        "tickets",
        ["active", "received_at", "id"],
        unique=False,
        postgresql_where=sa.text(LANE),
        sqlite_where=sa.text(LANE),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_lane_active_received_at_id", table_name="tickets")
