"""call-backs: hotline call logs (the caller masked and digested, never in clear) and one
call-back task per phone ticket, due 48 hours after it was received.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "call_logs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("caller_masked", sa.String(length=64), nullable=False),
        sa.Column("caller_digest", sa.String(length=64), nullable=False),
        sa.Column("called_at", TIME, nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_call_logs_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_call_logs_agent_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_logs")),
    )
    op.create_index(op.f("ix_call_logs_ticket_id"), "call_logs", ["ticket_id"], unique=False)
    op.create_index(op.f("ix_call_logs_caller_digest"), "call_logs", ["caller_digest"], unique=False)
    op.create_table(
        "callbacks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("done_at", TIME, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('reached','not_reached')", name=op.f("ck_callbacks_outcome")
        ),
        sa.CheckConstraint(
            "verdict IS NULL OR verdict IN ('satisfied','unsatisfied','no_opinion')",
            name=op.f("ck_callbacks_verdict"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_callbacks_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["done_by"], ["users.id"], name=op.f("fk_callbacks_done_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_callbacks_ticket_id")),
    )
    op.create_index(op.f("ix_callbacks_due_at"), "callbacks", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("callbacks")
    op.drop_table("call_logs")
