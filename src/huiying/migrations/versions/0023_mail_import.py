"""inbound mail: one row per mail taken in (the replay key is Message-ID plus content digest) and
the quarantine of mail that could not be taken in (its raw bytes stay in the data directory).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("sender_digest", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("ticket_id", BIG_ID, nullable=True),
        sa.Column("ticket_message_id", BIG_ID, nullable=True),
        sa.Column("sent_at", TIME, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.CheckConstraint(
            "kind IN ('normal','auto_reply','bounce','list','spam')", name=op.f("ck_mail_messages_kind")
        ),
        sa.CheckConstraint("outcome IN ('imported','threaded','noise')", name=op.f("ck_mail_messages_outcome")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_mail_messages_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_message_id"],
            ["messages.id"],
            name=op.f("fk_mail_messages_ticket_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("message_id", "digest", name=op.f("uq_mail_messages_message_id_digest")),
    )
    with op.batch_alter_table("mail_messages") as batch:
        batch.create_index("ix_mail_messages_sender_digest_sent_at", ["sender_digest", "sent_at"], unique=False)
        batch.create_index("ix_mail_messages_ticket_id", ["ticket_id"], unique=False)
    op.create_table(
        "mail_quarantine",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("sender_masked", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("status IN ('open','retried','ticketed','dropped')", name=op.f("ck_mail_quarantine_status")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_mail_quarantine_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_quarantine")),
        sa.UniqueConstraint("digest", name=op.f("uq_mail_quarantine_digest")),
    )
    with op.batch_alter_table("mail_quarantine") as batch:
        batch.create_index("ix_mail_quarantine_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_quarantine") as batch:
        batch.drop_index("ix_mail_quarantine_status_id")
    op.drop_table("mail_quarantine")
    with op.batch_alter_table("mail_messages") as batch:
        batch.drop_index("ix_mail_messages_ticket_id")
        batch.drop_index("ix_mail_messages_sender_digest_sent_at")
    op.drop_table("mail_messages")
