"""deliveries: the Message-ID of each mail sent (a bounce or an answer finds its delivery by it),
and notices about a ticket (the acknowledgement of a mail, a status change) that belong to no
message: `message_id` may be empty, and `notice_key` makes each notice once per ticket and channel.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("notice_key", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("mail_message_id", sa.String(length=255), nullable=True))
        batch.alter_column("message_id", existing_type=BIG_ID, nullable=True)
        batch.create_unique_constraint(
            "uq_deliveries_ticket_id_channel_notice_key", ["ticket_id", "channel", "notice_key"]
        )
        batch.create_index("ix_deliveries_mail_message_id", ["mail_message_id"], unique=False)


def downgrade() -> None:
    # Notices have no message to hang on: they cannot outlive the column that allows that.
    op.execute("DELETE FROM deliveries WHERE message_id IS NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_mail_message_id")
        batch.drop_constraint("uq_deliveries_ticket_id_channel_notice_key", type_="unique")
        batch.alter_column("message_id", existing_type=BIG_ID, nullable=False)
        batch.drop_column("mail_message_id")
        batch.drop_column("notice_key")
