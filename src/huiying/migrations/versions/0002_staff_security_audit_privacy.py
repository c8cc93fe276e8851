"""Staff security, the hash-chained audit log, encrypted contacts, freezes, QA, web sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The audit log refuses changes at the database level too (a superuser can still drop the
# trigger; `huiying audit verify` is what catches that).
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
POSTGRES_APPEND_ONLY = [
    "CREATE FUNCTION huiying_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION huiying_audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION huiying_audit_log_append_only()",
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _encrypt_existing_contacts() -> None:
    """Contacts were plain text in 0001: encrypt, mask and digest them with the install's key."""
    from huiying.kit.masking import mask_contact
    from huiying.privacy import crypto

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, contact FROM tickets WHERE contact IS NOT NULL")).all()
    for ticket_id, contact in rows:
        bind.execute(
            sa.text(
                "UPDATE tickets SET contact_encrypted = :e, contact_masked = :m, contact_digest = :d WHERE id = :i"
            ),
            {
                "e": crypto.encrypt(contact),
                "m": mask_contact(contact),
                "d": crypto.digest(contact),
                "i": ticket_id,
            },
        )


def _decrypt_contacts_back() -> None:
    from huiying.privacy import crypto

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, contact_encrypted FROM tickets WHERE contact_encrypted IS NOT NULL")).all()
    for ticket_id, token in rows:
        bind.execute(
            sa.text("UPDATE tickets SET contact = :c WHERE id = :i"),
            {"c": crypto.decrypt(token), "i": ticket_id},
        )


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor_type", sa.String(length=8), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor_id", ["actor_id"], unique=False)
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_log_object", ["object_type", "object_id"], unique=False)
    for statement in SQLITE_APPEND_ONLY if _is_sqlite() else POSTGRES_APPEND_ONLY:
        op.execute(statement)

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "freezes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("lifted_at", TIME, nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_freezes_created_by_id_users")),
        sa.ForeignKeyConstraint(["lifted_by_id"], ["users.id"], name=op.f("fk_freezes_lifted_by_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_freezes_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freezes")),
    )
    with op.batch_alter_table("freezes", schema=None) as batch_op:
        batch_op.create_index("ix_freezes_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_qa_reviews_agent_id_users")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_qa_reviews_reviewer_id_users")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_qa_reviews_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_reviews")),
    )
    with op.batch_alter_table("qa_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_qa_reviews_agent_id", ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_reviews_ticket_id"), ["ticket_id"], unique=False)

    # Plain ALTERs, never a batch "move and copy" of tickets: on SQLite that would drop the
    # full-text-search triggers of 0001.
    op.add_column("tickets", sa.Column("contact_encrypted", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("contact_masked", sa.String(length=254), nullable=True))
    op.add_column("tickets", sa.Column("contact_digest", sa.String(length=64), nullable=True))
    op.create_index("ix_tickets_contact_digest", "tickets", ["contact_digest"], unique=False)
    _encrypt_existing_contacts()
    op.execute("ALTER TABLE tickets DROP COLUMN contact")

    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.add_column("users", sa.Column("locked_until", TIME, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN locked_until")
    op.execute("ALTER TABLE users DROP COLUMN failed_logins")

    op.add_column("tickets", sa.Column("contact", sa.Text(), nullable=True))
    _decrypt_contacts_back()
    op.drop_index("ix_tickets_contact_digest", table_name="tickets")
    for column in ("contact_digest", "contact_masked", "contact_encrypted"):
        op.execute(f"ALTER TABLE tickets DROP COLUMN {column}")

    with op.batch_alter_table("qa_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_reviews_ticket_id"))
        batch_op.drop_index("ix_qa_reviews_agent_id")

    op.drop_table("qa_reviews")
    with op.batch_alter_table("freezes", schema=None) as batch_op:
        batch_op.drop_index("ix_freezes_target")

    op.drop_table("freezes")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_object")
        batch_op.drop_index("ix_audit_log_at")
        batch_op.drop_index("ix_audit_log_actor_id")

    op.drop_table("audit_log")
    if not _is_sqlite():
        op.execute("DROP FUNCTION huiying_audit_log_append_only()")
    op.drop_table("audit_head")
