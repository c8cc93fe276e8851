"""periodic_jobs: the schedule and lease of every registered periodic job; dead outbox jobs.

An outbox job that gave up used to be `failed`; it is `dead` now (the dead-letter state an
admin can retry from).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
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
        "periodic_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_jobs")),
    )
    op.execute("UPDATE outbox SET state = 'dead' WHERE state = 'failed'")


def downgrade() -> None:
    op.execute("UPDATE outbox SET state = 'failed' WHERE state = 'dead'")
    op.drop_table("periodic_jobs")
