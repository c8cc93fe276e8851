"""qa sampling: the criteria of a QA review (accuracy, tone, timeliness, process: 1-5 each;
callback: 1-5 or NULL when the ticket had no call-back), and the weekly sample of each agent's
handled tickets given to a QA person (qa_samples, one row per week and ticket).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
CRITERIA = ("accuracy", "tone", "timeliness", "process", "callback")


def upgrade() -> None:
    # A batch is fine here (qa_reviews carries nothing beyond its columns, unlike tickets), and
    # SQLite needs one to add the CHECK constraints.
    with op.batch_alter_table("qa_reviews", schema=None) as batch:
        for name in CRITERIA:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
            batch.create_check_constraint(
                op.f(f"ck_qa_reviews_{name}"), f"{name} IS NULL OR ({name} >= 1 AND {name} <= 5)"
            )
    op.create_table(
        "qa_samples",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_qa_samples_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_qa_samples_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_qa_samples_reviewer_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["qa_reviews.id"], name=op.f("fk_qa_samples_review_id_qa_reviews"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_samples")),
        sa.UniqueConstraint("week", "ticket_id", name=op.f("uq_qa_samples_week_ticket_id")),
    )
    op.create_index(op.f("ix_qa_samples_reviewer_id"), "qa_samples", ["reviewer_id"], unique=False)
    op.create_index(op.f("ix_qa_samples_agent_id"), "qa_samples", ["agent_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_qa_samples_agent_id"), table_name="qa_samples")
    op.drop_index(op.f("ix_qa_samples_reviewer_id"), table_name="qa_samples")
    op.drop_table("qa_samples")
    with op.batch_alter_table("qa_reviews", schema=None) as batch:
        for name in reversed(CRITERIA):
            batch.drop_constraint(op.f(f"ck_qa_reviews_{name}"), type_="check")
            batch.drop_column(name)
