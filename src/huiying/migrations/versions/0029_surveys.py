"""surveys: the user's satisfaction answer per ticket (survey_responses, with the agent, team,
category and channel it counts for), and csat/nps on the ticket for its JSON and lists.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: on SQLite a batch rebuilds `tickets`, and the rebuild
    # loses what the table carries beyond its columns (the search index's triggers).
    op.add_column("tickets", sa.Column("csat", sa.String(length=16), nullable=True))
    op.add_column("tickets", sa.Column("nps", sa.Integer(), nullable=True))
    op.create_table(
        "survey_responses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("csat", sa.String(length=16), nullable=False),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("low", sa.Boolean(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint(
            "csat IN ('very_satisfied', 'satisfied', 'neutral', 'dissatisfied')", name=op.f("ck_survey_responses_csat")
        ),
        sa.CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name=op.f("ck_survey_responses_nps")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_survey_responses_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_survey_responses_agent_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_survey_responses_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_survey_responses_ticket_id")),
    )
    op.create_index("ix_survey_responses_created_at", "survey_responses", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_survey_responses_created_at", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.execute("ALTER TABLE tickets DROP COLUMN nps")
    op.execute("ALTER TABLE tickets DROP COLUMN csat")
