"""audit_log: entries are inserted unchained and chained after commit (issue 17).

A new `id` primary key, taken at insert without a lock, orders the entries waiting for the
chainer; `seq`, `prev_hash` and `hash` become nullable ("not chained yet") and `seq` unique.
Existing entries keep their chain: id = seq, nothing is re-hashed, so they verify as before.
The append-only guards now let exactly one change through, the chainer's: setting a waiting
entry's position and hashes; and an entry must arrive unchained (a forged, pre-chained insert
is refused). UPDATE of anything else, DELETE and TRUNCATE are refused as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64
# Everything but the chain columns: the chainer's UPDATE must leave these as they were.
CONTENT = (
    "id",
    "at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip",
)

_SQLITE_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in CONTENT)
SQLITE_GUARDS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN NOT (OLD.seq IS NULL "
    "AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL AND "
    f"{_SQLITE_SAME}) BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_arrives_unchained BEFORE INSERT ON audit_log WHEN NEW.seq IS NOT NULL "
    "OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL "
    "BEGIN SELECT RAISE(ABORT, 'audit_log entries arrive unchained'); END",
]
_PG_NEW = ", ".join(f"NEW.{c}" for c in CONTENT)
_PG_OLD = ", ".join(f"OLD.{c}" for c in CONTENT)
POSTGRES_GUARDS = [
    # Replaces 0002's function; its UPDATE/DELETE and TRUNCATE triggers keep calling it.
    "CREATE OR REPLACE FUNCTION huiying_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL "
    f"AND NEW.hash IS NOT NULL AND ({_PG_NEW}) IS NOT DISTINCT FROM ({_PG_OLD}) THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE FUNCTION huiying_audit_log_arrives_unchained() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN "
    "RAISE EXCEPTION 'audit_log entries arrive unchained'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER audit_log_arrives_unchained BEFORE INSERT ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION huiying_audit_log_arrives_unchained()",
]
# 0002's guards, for the downgrade.
OLD_SQLITE_GUARDS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
OLD_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION huiying_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
)
UNCHAINED = sa.text("seq IS NULL")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    sqlite = _is_sqlite()
    # The guards would refuse the copy of seq into id. (SQLite's table rebuild drops them anyway.)
    if sqlite:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.add_column("audit_log", sa.Column("id", BIG_ID, nullable=True))
    op.execute("UPDATE audit_log SET id = seq")
    if not sqlite:
        # What BIGSERIAL would have made, continuing after the existing entries.
        op.execute("CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id")
        op.execute("SELECT setval('audit_log_id_seq', COALESCE((SELECT max(id) FROM audit_log), 0) + 1, false)")
        op.execute("ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')")
    with op.batch_alter_table("audit_log", recreate="always" if sqlite else "auto") as batch_op:
        batch_op.drop_constraint("pk_audit_log", type_="primary")
        batch_op.alter_column("id", existing_type=BIG_ID, nullable=False)
        batch_op.create_primary_key("pk_audit_log", ["id"])
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint("uq_audit_log_seq", ["seq"])
        batch_op.create_index("ix_audit_log_unchained", ["id"], sqlite_where=UNCHAINED, postgresql_where=UNCHAINED)
    if not sqlite:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    for statement in SQLITE_GUARDS if sqlite else POSTGRES_GUARDS:
        op.execute(statement)
    # The chainer's lock row, so it never has to create it.
    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, :genesis WHERE NOT EXISTS (SELECT 1 FROM audit_head)"
        ).bindparams(genesis=GENESIS)
    )


def downgrade() -> None:
    sqlite = _is_sqlite()
    waiting = op.get_bind().scalar(sa.text("SELECT count(*) FROM audit_log WHERE seq IS NULL"))
    if waiting:
        raise RuntimeError(f"{waiting} audit entries are not chained yet: run `huiying audit verify` first")
    if sqlite:
        for name in ("audit_log_no_update", "audit_log_no_delete", "audit_log_arrives_unchained"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER audit_log_arrives_unchained ON audit_log")
        op.execute("DROP FUNCTION huiying_audit_log_arrives_unchained()")
        op.execute(OLD_POSTGRES_FUNCTION)
    with op.batch_alter_table("audit_log", recreate="always" if sqlite else "auto") as batch_op:
        batch_op.drop_index("ix_audit_log_unchained")
        batch_op.drop_constraint("uq_audit_log_seq", type_="unique")
        batch_op.drop_constraint("pk_audit_log", type_="primary")
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_primary_key("pk_audit_log", ["seq"])
        batch_op.drop_column("id")
    if sqlite:
        for statement in OLD_SQLITE_GUARDS:
            op.execute(statement)
