"""mail quarantine: the digest of each entry's sender, so a data-subject request finds the
person's quarantined mails (which may belong to no ticket). Older entries keep it empty: they
are found by their ticket, or not at all — their masked sender cannot be matched.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mail_quarantine") as batch:
        batch.add_column(sa.Column("sender_digest", sa.String(length=64), nullable=True))
        batch.create_index("ix_mail_quarantine_sender_digest", ["sender_digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_quarantine") as batch:
        batch.drop_index("ix_mail_quarantine_sender_digest")
        batch.drop_column("sender_digest")
