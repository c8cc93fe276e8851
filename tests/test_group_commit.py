"""SQLite's group commit (db.py `_GroupCommit`): the writes of concurrent threads share one
COMMIT, each in its own savepoint; a writer returns only once its COMMIT succeeded.

To put several writers into one batch for certain, the first one waits inside its body until the
others are queued behind it (the queue and the limits are looked at directly: timing alone would
make these tests flaky on a busy machine).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from huiying import wiring
from huiying.config import Settings
from huiying.db import CommitFailed, Database, DatabaseUnavailable, Timeouts, call_after_commit
from huiying.kit import text as kit_text
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake
from huiying.tickets.models import Ticket, TicketEvent
from huiying.tickets.schemas import FeedbackIn

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def probe(db: Database) -> Iterator[list[str]]:
    """Two scratch tables in this test's database, and a log of the COMMITs it sees."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE gc_probe (id INTEGER PRIMARY KEY, writer TEXT NOT NULL UNIQUE)")
        # A deferred foreign key is checked at COMMIT only: a way to make a real COMMIT fail.
        connection.exec_driver_sql(
            "CREATE TABLE gc_child (id INTEGER PRIMARY KEY,"
            " parent_id INTEGER REFERENCES gc_probe(id) DEFERRABLE INITIALLY DEFERRED)"
        )
    assert db._group is not None
    db._group.max_delay = 60.0  # batches end when nobody waits, not by age, in these tests
    commits: list[str] = []
    event.listen(db.engine, "commit", lambda _connection: commits.append("commit"))
    yield commits


def _insert(session: Session, writer: str) -> None:
    session.execute(text("INSERT INTO gc_probe (writer) VALUES (:w)"), {"w": writer})


def _stored(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(text("SELECT writer FROM gc_probe")))


def _wait_for_queue(db: Database, length: int) -> None:
    assert db._group is not None
    deadline = time.monotonic() + 20
    while len(db._group._queue) < length:
        assert time.monotonic() < deadline, "the other writers did not queue"
        time.sleep(0.002)


def _one_batch(db: Database, bodies: list[Callable[[Session], None]]) -> list[Future[Any]]:
    """Run `bodies` as writes of one batch: the first holds the turn until the rest are queued."""
    queued = threading.Event()

    def first(session: Session) -> None:
        queued.wait(20)
        bodies[0](session)

    def run(body: Callable[[Session], None]) -> None:
        with db.write() as session:
            body(session)

    with ThreadPoolExecutor(len(bodies)) as pool:
        futures = [pool.submit(run, first)]
        _wait_for_first_inside(db)
        for index, body in enumerate(bodies[1:], start=1):
            futures.append(pool.submit(run, body))
            _wait_for_queue(db, index)  # in this order
        queued.set()
    return futures


def _wait_for_first_inside(db: Database) -> None:
    assert db._group is not None
    deadline = time.monotonic() + 20
    while not db._group._busy:
        assert time.monotonic() < deadline
        time.sleep(0.002)


def test_concurrent_writers_share_one_commit_and_all_see_their_rows(db: Database, probe: list[str]) -> None:
    bodies = [lambda s, name=f"w{i}": _insert(s, name) for i in range(6)]
    futures = _one_batch(db, bodies)
    assert [f.exception() for f in futures] == [None] * 6
    assert _stored(db) == [f"w{i}" for i in range(6)]
    assert len(probe) == 1, "six writers in one batch, one COMMIT"


def test_many_threads_writing_freely_all_commit(db: Database, probe: list[str]) -> None:
    def write(index: int) -> str:
        name = f"t{index}"
        with db.write() as session:
            _insert(session, name)
        # Returned, so committed: a read on another connection sees it at once.
        assert name in _stored(db)
        return name

    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(write, range(200)))
    assert _stored(db) == sorted(names)
    assert len(probe) <= 200


def test_a_failing_writer_rolls_back_only_its_own_changes(db: Database, probe: list[str]) -> None:
    def failing(session: Session) -> None:
        _insert(session, "bad")
        raise ValueError("this writer fails")

    futures = _one_batch(db, [lambda s: _insert(s, "a"), failing, lambda s: _insert(s, "c")])
    assert futures[0].exception() is None and futures[2].exception() is None
    assert isinstance(futures[1].exception(), ValueError)
    assert _stored(db) == ["a", "c"]
    assert len(probe) == 1


def test_after_commit_callbacks_run_after_the_commit_in_their_writers_thread(db: Database, probe: list[str]) -> None:
    ran: list[tuple[str, int, bool]] = []

    def body(name: str, *, fail: bool = False) -> Callable[[Session], None]:
        def run(session: Session) -> None:
            _insert(session, name)
            writer_thread = threading.get_ident()
            # Stored (seen from another connection) by the time the callback runs.
            call_after_commit(session, lambda: ran.append((name, writer_thread, name in _stored(db))))
            if fail:
                raise ValueError("rolled back")

        return run

    futures = _one_batch(db, [body("a"), body("b", fail=True), body("c")])
    assert isinstance(futures[1].exception(), ValueError)
    assert sorted(name for name, _, _ in ran) == ["a", "c"], "never for the rolled-back writer"
    assert all(stored for _, _, stored in ran)
    assert len(probe) == 1


def test_callbacks_run_in_the_writers_own_thread(db: Database, probe: list[str]) -> None:
    seen: dict[str, tuple[int, int]] = {}

    def body(name: str) -> Callable[[Session], None]:
        def run(session: Session) -> None:
            _insert(session, name)
            mine = threading.get_ident()
            call_after_commit(session, lambda: seen.__setitem__(name, (mine, threading.get_ident())))

        return run

    _one_batch(db, [body("a"), body("b"), body("c")])
    assert set(seen) == {"a", "b", "c"}
    assert all(writer == caller for writer, caller in seen.values())


def test_a_failed_commit_makes_every_writer_of_the_batch_raise(db: Database, probe: list[str]) -> None:
    ran: list[str] = []

    def good(name: str) -> Callable[[Session], None]:
        def run(session: Session) -> None:
            _insert(session, name)
            call_after_commit(session, lambda: ran.append(name))

        return run

    def orphan(session: Session) -> None:
        # Fine until COMMIT: the deferred foreign key fails there, for the whole transaction.
        session.execute(text("INSERT INTO gc_child (parent_id) VALUES (999)"))

    futures = _one_batch(db, [good("a"), orphan, good("c")])
    assert all(isinstance(f.exception(), CommitFailed) for f in futures), [f.exception() for f in futures]
    assert _stored(db) == []
    assert ran == [], "no after-commit callback without a commit"
    # The writer recovers: the next write gets a fresh transaction and commits.
    with db.write() as session:
        _insert(session, "after")
    assert _stored(db) == ["after"]


def test_a_write_inside_a_write_joins_it(db: Database, probe: list[str]) -> None:
    order: list[str] = []
    with db.write() as outer:
        _insert(outer, "outer")
        with db.write() as inner:
            _insert(inner, "inner")
            call_after_commit(inner, lambda: order.append("inner callback"))
        with pytest.raises(ValueError), db.write() as failing:
            _insert(failing, "inner failing")
            raise ValueError("only this one is undone")
        assert order == [], "the inner write is committed with the outer one"
        order.append("outer body done")
    assert order == ["outer body done", "inner callback"]
    assert _stored(db) == ["inner", "outer"]
    assert len(probe) == 1


def test_a_writer_that_waits_too_long_for_its_turn_gets_database_unavailable(db: Database, probe: list[str]) -> None:
    quick = Database(db.url, Timeouts(lock=0.2))
    try:
        inside, release = threading.Event(), threading.Event()

        def hold() -> None:
            with quick.write() as session:
                _insert(session, "holder")
                inside.set()
                release.wait(20)

        holder = threading.Thread(target=hold)
        holder.start()
        assert inside.wait(20)
        with pytest.raises(DatabaseUnavailable), quick.write() as session:
            _insert(session, "late")
        release.set()
        holder.join(20)
        assert _stored(db) == ["holder"]
    finally:
        quick.dispose()


def test_ticket_creates_from_eight_threads_get_their_numbers_and_history(db: Database, tmp_path: Any) -> None:
    wiring.install_handlers()
    kit_text.warm_up()  # loading the segmenter inside the first write would hold up the others
    settings = Settings(database_url=db.url, secret_key="k" * 40, data_dir=tmp_path / "var")

    def create(index: int) -> str:
        feedback = FeedbackIn(description=f"并发提交第{index}条：看直播一直卡", user_id=f"u{index}")
        with db.write() as session:
            number = intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings).ticket.number
        with db.read() as session:  # returned after COMMIT: visible elsewhere right away
            assert session.scalar(select(Ticket.id).where(Ticket.number == number)) is not None
        return number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(create, range(80)))
    assert len(set(numbers)) == 80
    assert sorted(int(n.split("-")[1]) for n in numbers) == list(range(1, 81))
    with db.read() as session:
        created = session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "created"))
    # history's before_commit hook ran inside each writer's savepoint
    assert created == 80
