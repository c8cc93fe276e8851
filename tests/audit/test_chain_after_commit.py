"""The audit chain is built after commit: writers take no lock on its head, the chainer orders
what they committed, and `verify` still catches every change, removal and insertion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from conftest import postgres_url, scratch_database
from huiying import migrate, wiring
from huiying.audit import chain
from huiying.audit import service as audit
from huiying.audit.models import AuditEntry
from huiying.db import Database, JSONType, Timeouts, UTCDateTime
from huiying.kit.actor import Actor, ActorType
from huiying.kit.clock import utcnow
from huiying.worker import scheduler

ROBOT = Actor(type=ActorType.SYSTEM, name="test")
# audit_log as 0002 made it (no id column).
OLD_AUDIT_LOG = sa.table(
    "audit_log",
    *(sa.column(name) for name in chain.HASHED_FIELDS if name not in {"at", "before", "after"}),
    sa.column("at", UTCDateTime()),
    sa.column("before", JSONType),
    sa.column("after", JSONType),
    sa.column("prev_hash"),
    sa.column("hash"),
)


def _record(db: Database, action: str) -> None:
    audit.record_now(db, actor=ROBOT, action=action, object_type="test", object_id=action)


def _chained(db: Database) -> dict[str, tuple[int, int | None]]:
    """action -> (insertion id, chain position)."""
    with db.read() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.id, AuditEntry.seq)).all()
    return {action: (entry_id, seq) for action, entry_id, seq in rows}


def _verify(db: Database) -> audit.Verification:
    with db.read() as session:
        return audit.verify(session)


def _drop_guards(db: Database) -> None:
    with db.engine.begin() as connection:
        if db.is_sqlite:
            for name in ("audit_log_no_update", "audit_log_no_delete", "audit_log_arrives_unchained"):
                connection.execute(text(f"DROP TRIGGER {name}"))
        else:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))


@pytest.fixture(autouse=True)
def _guards_on(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tampering tests switch the append-only triggers off. On PostgreSQL the database is shared
    by the session's tests (SQLite gets a fresh copy each): switch them on, before and after."""

    def switch_on() -> None:
        if "db" in request.fixturenames:
            db: Database = request.getfixturevalue("db")
            if not db.is_sqlite:
                with db.engine.begin() as connection:
                    connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))

    switch_on()
    yield
    switch_on()


@pytest.fixture
def pg(db: Database) -> Database:
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: there is no queue on the head to avoid")
    return db


def test_a_writer_does_not_wait_for_another_writers_open_commit(pg: Database) -> None:
    impatient = Database(pg.url, Timeouts(lock=1.0))  # fails on any lock wait over a second
    try:
        with pg.write() as first:
            audit.record(first, actor=ROBOT, action="test.first", object_type="test")
            # Everything the audit log does at commit, short of the COMMIT itself: the moment
            # the old scheme held the head row locked.
            first.dispatch.before_commit(first)
            _record(impatient, "test.second")  # would hit lock_timeout behind the head lock
        assert set(_chained(pg)) == {"test.first", "test.second"}
    finally:
        impatient.dispose()
    assert audit.chain_all(pg) == 2
    assert _verify(pg) == audit.Verification(entries=2, broken=None, unchained=0)


def test_an_entry_committed_late_with_a_lower_id_is_chained_after(pg: Database) -> None:
    with pg.write() as late:
        audit.record(late, actor=ROBOT, action="test.late", object_type="test")
        late.dispatch.before_commit(late)  # inserted (lower id), not committed yet
        _record(pg, "test.early")
        assert audit.chain_all(pg) == 1  # the chainer sees only what is committed
    assert audit.chain_all(pg) == 1
    entries = _chained(pg)
    assert entries["test.late"][0] < entries["test.early"][0]
    assert (entries["test.early"][1], entries["test.late"][1]) == (1, 2)
    assert _verify(pg) == audit.Verification(entries=2, broken=None, unchained=0)


def test_entries_wait_unchained_until_the_chainer_runs(db: Database) -> None:
    for action in ("test.a", "test.b", "test.c"):
        _record(db, action)
    assert {seq for _id, seq in _chained(db).values()} == {None}
    waiting = _verify(db)
    assert (waiting.entries, waiting.broken, waiting.unchained) == (0, None, 3)

    assert audit.chain_all(db) == 3
    assert audit.chain_all(db) == 0
    entries = _chained(db)
    assert [entries[a][1] for a in ("test.a", "test.b", "test.c")] == [1, 2, 3]
    assert _verify(db) == audit.Verification(entries=3, broken=None, unchained=0)


def test_the_chainer_works_in_batches_without_gaps(db: Database) -> None:
    for n in range(5):
        _record(db, f"test.{n}")
    with db.write() as session:
        assert audit.chain_pending(session, limit=2) == 2
    with db.write() as session:
        assert audit.chain_pending(session, limit=2) == 2
    assert _verify(db).unchained == 1
    assert audit.chain_all(db) == 1
    assert sorted(seq or 0 for _id, seq in _chained(db).values()) == [1, 2, 3, 4, 5]
    assert _verify(db).broken is None


def test_the_periodic_job_chains_entries(db: Database) -> None:
    wiring.install_jobs()
    _record(db, "test.by_the_job")
    ran = scheduler.tick(db, owner="test")
    assert audit.CHAIN_JOB in ran
    assert _chained(db)["test.by_the_job"][1] == 1
    assert _verify(db) == audit.Verification(entries=1, broken=None, unchained=0)


def test_an_entry_left_unchained_too_long_breaks_verify(db: Database) -> None:
    _record(db, "test.chained")
    audit.chain_all(db)
    _record(db, "test.stuck")
    with db.read() as session:
        soon = audit.verify(session, now=utcnow() + timedelta(minutes=1))
        later = audit.verify(session, now=utcnow() + audit.STALE_AFTER + timedelta(seconds=1))
    assert soon == audit.Verification(entries=1, broken=None, unchained=1)
    assert later.broken is not None and later.broken.seq == 2
    assert "waited over 5 minutes to be chained" in later.broken.reason


def _tamper(db: Database, statement: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement))


def _three_chained(db: Database) -> None:
    for action in ("test.a", "test.b", "test.c"):
        _record(db, action)
    audit.chain_all(db)
    assert _verify(db).broken is None


def test_a_changed_chained_entry_is_detected(db: Database) -> None:
    _three_chained(db)
    _drop_guards(db)
    _tamper(db, "UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 2")
    assert _verify(db).broken == chain.Break(2, "its content does not match its hash (changed after writing)")


def test_a_removed_chained_entry_and_a_cut_tail_are_detected(db: Database) -> None:
    _three_chained(db)
    _drop_guards(db)
    _tamper(db, "DELETE FROM audit_log WHERE seq = 3")
    assert _verify(db).broken == chain.Break(3, "the log ends at 2 but the head says 3")
    _tamper(db, "DELETE FROM audit_log WHERE seq = 1")
    assert _verify(db).broken == chain.Break(1, "entry 1 is missing")


def test_a_forged_chained_entry_is_detected(db: Database) -> None:
    _three_chained(db)
    with db.read() as session:
        last = session.scalars(select(AuditEntry).where(AuditEntry.seq == 3)).one()
        fields = {name: getattr(last, name) for name in chain.HASHED_FIELDS}
    forged = dict(fields, seq=4, actor_name="forger")
    digest = chain.entry_hash(forged, last.hash or "")
    insert = text(
        "INSERT INTO audit_log (seq, at, actor_type, actor_name, action, object_type, prev_hash, hash) "
        "VALUES (4, :at, 'system', 'forger', 'test.forged', 'test', :prev, :hash)"
    )
    values = {"at": datetime.now(UTC).replace(tzinfo=None), "prev": last.hash, "hash": digest}
    # The guard: an entry must arrive unchained.
    with pytest.raises(DBAPIError, match="arrive unchained"), db.engine.begin() as connection:
        connection.execute(insert, values)
    _drop_guards(db)
    with db.engine.begin() as connection:
        connection.execute(insert, values)
    broken = _verify(db).broken
    assert broken is not None and broken.seq == 4  # its hash or the head gives it away


def test_the_guards_let_only_the_chainer_set_an_entrys_place(db: Database) -> None:
    _record(db, "test.waiting")
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET seq = 1, prev_hash = 'x', hash = 'y', actor_name = 'other' WHERE seq IS NULL")
        )
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq IS NULL"))
    assert audit.chain_all(db) == 1
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET hash = 'z' WHERE seq = 1"))
    assert _verify(db) == audit.Verification(entries=1, broken=None, unchained=0)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id_suffix: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chain.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL tests skipped: set HUIYING_TEST_DATABASE_URL to run them")
    with scratch_database(base, f"{worker_id_suffix}_audit_{uuid.uuid4().hex[:6]}") as url:
        yield url


def test_a_chain_written_before_0014_still_verifies_and_grows(empty_url: str) -> None:
    db = Database(empty_url)
    try:
        migrate.upgrade(db.engine, "0013")
        prev = chain.GENESIS
        with db.engine.begin() as connection:
            for seq in (1, 2):
                fields = {
                    "seq": seq,
                    "at": datetime(2026, 11, 30, 8, 0, seq, 123456, tzinfo=UTC),
                    "actor_type": "system",
                    "actor_id": None,
                    "actor_name": "old",
                    "action": "test.old",
                    "object_type": "test",
                    "object_id": str(seq),
                    "before": None,
                    "after": {"n": seq},
                    "ip": None,
                }
                digest = chain.entry_hash(fields, prev)
                connection.execute(OLD_AUDIT_LOG.insert().values(**fields, prev_hash=prev, hash=digest))
                prev = digest
            connection.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :h)"), {"h": prev})
        migrate.upgrade(db.engine)
        assert _verify(db) == audit.Verification(entries=2, broken=None, unchained=0)
        _record(db, "test.new")
        assert audit.chain_all(db) == 1
        assert _chained(db)["test.new"] == (3, 3)  # ids continue after the old entries
        assert _verify(db) == audit.Verification(entries=3, broken=None, unchained=0)
    finally:
        db.dispose()
