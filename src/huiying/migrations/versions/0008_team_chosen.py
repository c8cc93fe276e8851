"""tickets.team_chosen: a person set the ticket's team, so a later category change keeps it
(otherwise a category change routes the ticket to the category's team).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A ticket's team was chosen by a person when its latest team change was made by staff.
BACKFILL = (
    "UPDATE tickets SET team_chosen = {true} WHERE team_id IS NOT NULL AND ("
    "SELECT e.actor_type FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.field = 'team' "
    "ORDER BY e.id DESC LIMIT 1) = 'staff'"
)


def upgrade() -> None:
    # A plain ALTER: a batch copy of tickets would drop the SQLite search triggers.
    op.add_column("tickets", sa.Column("team_chosen", sa.Boolean(), server_default="0", nullable=False))
    op.execute(BACKFILL.format(true="1" if op.get_bind().dialect.name == "sqlite" else "TRUE"))


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN team_chosen")
