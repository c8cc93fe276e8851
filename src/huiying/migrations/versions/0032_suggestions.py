"""suggestions: the suggestion pool (建议池) — groups of similar suggestions with their status
and decision (suggestion_groups), the tickets in each (suggestion_members, one group per
ticket) and staff votes (suggestion_votes, one per staff member and group).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "suggestion_groups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("timeline", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'planned', 'adopted', 'declined')", name=op.f("ck_suggestion_groups_status")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_suggestion_groups_decided_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_groups")),
    )
    op.create_index("ix_suggestion_groups_status_id", "suggestion_groups", ["status", "id"])
    op.create_table(
        "suggestion_members",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("group_id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("joined_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["suggestion_groups.id"],
            name=op.f("fk_suggestion_members_group_id_suggestion_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_suggestion_members_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_members")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_suggestion_members_ticket_id")),
    )
    op.create_index("ix_suggestion_members_group_id", "suggestion_members", ["group_id"])
    op.create_table(
        "suggestion_votes",
        sa.Column("group_id", BIG_ID, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["suggestion_groups.id"],
            name=op.f("fk_suggestion_votes_group_id_suggestion_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["users.id"], name=op.f("fk_suggestion_votes_staff_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "staff_id", name=op.f("pk_suggestion_votes")),
    )


def downgrade() -> None:
    op.drop_table("suggestion_votes")
    op.drop_index("ix_suggestion_members_group_id", table_name="suggestion_members")
    op.drop_table("suggestion_members")
    op.drop_index("ix_suggestion_groups_status_id", table_name="suggestion_groups")
    op.drop_table("suggestion_groups")
