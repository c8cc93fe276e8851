"""The columns routing, assignment and the SLA clock keep on tickets, teams and staff (issue 18).

tickets: when the assignee was given the ticket and confirmed it (确认接收), the special group that
skips the queue (VIP is its own flag already), the SLA policy applied and why a due time is
missing, when the clock was paused, the next-response target, and the moments a warning or a
breach was claimed — each claimed once by a conditional UPDATE, so two sweeps never notify twice.
teams: how work is handed out, the cap per agent, how long an assignee has to accept, and the
working calendar the team's SLA counts on. users: availability, skills, last round-robin turn.

Plain ALTERs: a batch copy of tickets would drop the SQLite search triggers.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)

TICKET_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("assigned_at", TIME, nullable=True),
    sa.Column("accepted_at", TIME, nullable=True),
    sa.Column("special_group", sa.String(length=16), nullable=True),
    sa.Column("sla_policy", sa.String(length=48), nullable=True),
    sa.Column("sla_note", sa.String(length=200), nullable=True),
    sa.Column("sla_paused_at", TIME, nullable=True),
    sa.Column("next_response_due", TIME, nullable=True),
    sa.Column("response_warned_at", TIME, nullable=True),
    sa.Column("resolution_warned_at", TIME, nullable=True),
    sa.Column("response_breached_at", TIME, nullable=True),
    sa.Column("resolution_breached_at", TIME, nullable=True),
]
TEAM_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("assignment_mode", sa.String(length=16), server_default="manual", nullable=False),
    sa.Column("max_open_per_agent", sa.Integer(), nullable=True),
    sa.Column("accept_within_minutes", sa.Integer(), nullable=True),
    sa.Column("calendar", sa.String(length=48), nullable=True),
]
USER_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("availability", sa.String(length=12), server_default="available", nullable=False),
    sa.Column("skills", sa.JSON(), nullable=True),
    sa.Column("last_assigned_at", TIME, nullable=True),
]
TABLES: dict[str, list[sa.Column[Any]]] = {"tickets": TICKET_COLUMNS, "teams": TEAM_COLUMNS, "users": USER_COLUMNS}


def upgrade() -> None:
    for table, columns in TABLES.items():
        for column in columns:
            op.add_column(table, column)


def downgrade() -> None:
    for table, columns in TABLES.items():
        for column in reversed(columns):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
