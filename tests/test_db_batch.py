"""`Database.batch()`: the writes of one thread inside it share one transaction, each in a
savepoint of its own (bulk mail import). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from huiying.db import Database, call_after_commit


@pytest.fixture
def probe(db: Database) -> Iterator[list[str]]:
    """A scratch table, and a log of the COMMITs the engine sees."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE batch_probe (item VARCHAR(20) PRIMARY KEY)")
    commits: list[str] = []
    event.listen(db.engine, "commit", lambda _connection: commits.append("commit"))
    yield commits
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE batch_probe")


def _insert(session: Session, item: str) -> None:
    session.execute(text("INSERT INTO batch_probe (item) VALUES (:item)"), {"item": item})


def _stored(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(text("SELECT item FROM batch_probe")))


def test_the_writes_of_a_batch_share_one_commit_and_their_callbacks_wait_for_it(db: Database, probe: list[str]) -> None:
    ran: list[str] = []
    with db.batch():
        for item in ("a", "b", "c"):
            with db.write() as session:
                _insert(session, item)
                call_after_commit(session, lambda item=item: ran.append(item))  # type: ignore[misc]
        assert ran == []  # nothing is committed yet
        assert probe == []
    assert probe == ["commit"]
    assert ran == ["a", "b", "c"]
    assert _stored(db) == ["a", "b", "c"]


def test_a_write_that_fails_rolls_back_alone(db: Database, probe: list[str]) -> None:
    ran: list[str] = []
    with db.batch():
        with db.write() as session:
            _insert(session, "kept")
        with pytest.raises(RuntimeError), db.write() as session:
            _insert(session, "lost")
            call_after_commit(session, lambda: ran.append("lost"))
            raise RuntimeError("this item is bad")
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"), db.write() as session:
            _insert(session, "kept")  # a database error: the savepoint rolls back, the batch goes on
        with db.write() as session:
            _insert(session, "after")
            call_after_commit(session, lambda: ran.append("after"))
    assert _stored(db) == ["after", "kept"]
    assert ran == ["after"]  # the failed write's callback never runs


def test_an_error_in_the_batch_itself_stores_none_of_it(db: Database, probe: list[str]) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), db.batch():
        with db.write() as session:
            _insert(session, "a")
            call_after_commit(session, lambda: ran.append("a"))
        raise RuntimeError("the batch breaks")
    assert _stored(db) == []
    assert ran == []
    with db.write() as session:  # and the next write is an ordinary one again
        _insert(session, "b")
    assert _stored(db) == ["b"]
