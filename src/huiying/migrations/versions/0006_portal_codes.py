"""Portal one-time codes: a visitor proves a contact before the portal lists its feedback.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "portal_codes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contact_digest", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_sealed", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_codes")),
    )
    with op.batch_alter_table("portal_codes", schema=None) as batch_op:
        batch_op.create_index("ix_portal_codes_contact_digest_created_at", ["contact_digest", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("portal_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_codes_contact_digest_created_at")
    op.drop_table("portal_codes")
