"""A message's `source_ref` (an email's Message-ID, a WeChat MsgId) is unique per ticket and
channel: a replayed follow-up is claimed like an intake key and adds nothing. No stored message
has one yet (nothing wrote it before this revision), so no duplicates can stand in the way.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.create_unique_constraint(
            op.f("uq_messages_ticket_id_channel_source_ref"), ["ticket_id", "channel", "source_ref"]
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("uq_messages_ticket_id_channel_source_ref"), type_="unique")
