"""notices: what a delivery waits for and carries (not_before: quiet hours; detail: the words a
notice says beyond the ticket, e.g. a delay's reason and new time; resent: staff resends), and
the admins' own wording of each notice (notice_templates).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("not_before", TIME, nullable=True))
    op.add_column("deliveries", sa.Column("detail", JSON, nullable=True))
    op.add_column("deliveries", sa.Column("resent", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "notice_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("short", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_notice_templates_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_templates")),
        sa.UniqueConstraint("kind", "language", name=op.f("uq_notice_templates_kind_language")),
    )


def downgrade() -> None:
    op.drop_table("notice_templates")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("resent")
        batch.drop_column("detail")
        batch.drop_column("not_before")
