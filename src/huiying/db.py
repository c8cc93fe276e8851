"""Engines, sessions and the declarative base, for SQLite (embedded) and PostgreSQL.

Nothing is built at import time: `Database` is created by whoever runs the process (the web app,
a CLI command, a worker) from the settings, and handed down.

Sessions come in two kinds. On SQLite a transaction that will write starts with
`BEGIN IMMEDIATE`: it takes the single write lock up front and waits for it (busy_timeout),
instead of starting as a reader and failing with SQLITE_BUSY when it later tries to write.
Read-only sessions start with a plain `BEGIN` and never block writers (WAL).
Writers of one process also queue in Python: a waiting thread wakes the moment the previous
writer is done, where SQLite's own busy handler would sleep and poll. And they share commits
(group commit, `_GroupCommit`): one connection keeps a transaction open, each write runs in a
savepoint on it, and the COMMIT happens when no other writer is waiting (or the batch is full or
old), so a burst of requests pays for one COMMIT (and its WAL frames) instead of one each.

Every wait for the database is bounded (`Timeouts`): a database that is down, stopped or locked
makes a request fail with `DatabaseUnavailable` or SQLAlchemy's OperationalError / TimeoutError
within seconds (answered 503, api/errors.py) instead of holding a request thread for as long as
the outage lasts. (A query already running on a PostgreSQL server that then stops waits for
it: only the server enforces statement_timeout. The pool timeout keeps the other requests from
queueing behind such connections.)
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    RootTransaction,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AFTER_COMMIT = "huiying_after_commit"
_WRITE_OPTION = "huiying_write"


class DatabaseUnavailable(Exception):
    """The database did not let us in within the time we wait (answered 503)."""


class CommitFailed(DatabaseUnavailable):
    """The COMMIT that held this write failed: nothing of it was stored (503: send it again)."""


@dataclass(frozen=True)
class Timeouts:
    """How long one request waits for the database, in seconds."""

    connect: float = 5.0  # a new PostgreSQL connection (libpq connect_timeout)
    statement: float = 30.0  # one PostgreSQL statement (statement_timeout)
    lock: float = 10.0  # a PostgreSQL row or table lock (lock_timeout); SQLite's write lock in this process
    # SQLite's file lock while another process writes (busy_timeout). SQLite's busy handler polls
    # instead of queueing, so with several writing processes (serve, a worker, the CLI) one of them
    # can be passed over for seconds at a time: it gets more room than the fair in-process lock.
    sqlite_busy: float = 30.0
    pool: float = 10.0  # a free connection from the pool


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both back ends (SQLite keeps no offset, so we store UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _configure_sqlite(engine: Engine, timeouts: Timeouts) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeouts.sqlite_busy * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _private_sqlite_file(url: str) -> None:
    """Create the database file owner-only (0600) before SQLite opens it, or narrow an old one.

    SQLite gives the -wal and -shm files the mode of the database file, so they follow. A
    missing directory is created owner-only too; an existing one is the operator's choice.
    """
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = os.path.abspath(name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for existing in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(existing) and os.stat(existing).st_mode & 0o077:
                os.chmod(existing, 0o600)


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    """An engine for `url` with the pragmas and pool this project relies on.

    Statement parameters are hidden from error texts: they are message bodies, contacts, names.
    """
    timeouts = timeouts or Timeouts()
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeouts.sqlite_busy},
            hide_parameters=True,
        )
        _configure_sqlite(engine, timeouts)
        return engine
    # The pool is as large as the web process's thread pool (40), so a busy process reuses
    # connections instead of opening and closing overflow ones. No pre-ping: a round trip per
    # checkout; a connection broken by a server restart is detected when used and replaced.
    options = f"-c statement_timeout={int(timeouts.statement * 1000)} -c lock_timeout={int(timeouts.lock * 1000)}"
    given = make_url(url).query.get("options")  # the operator's own (a later -c wins)
    if given:
        options = f"{options} {given if isinstance(given, str) else ' '.join(given)}"
    return create_engine(
        url,
        pool_size=40,
        max_overflow=10,
        pool_recycle=1800,
        pool_timeout=timeouts.pool,
        hide_parameters=True,
        connect_args={"connect_timeout": max(1, round(timeouts.connect)), "options": options},
    )


def _run_after_commit(session: Session) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop(AFTER_COMMIT, [])
    for callback in callbacks:
        callback()


def _drop_after_commit(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)


@dataclass(frozen=True)
class _OpenBatch:
    connection: Connection
    callbacks: list[Callable[[], None]]  # the after-commit callbacks of the writes in it


@dataclass
class _Batch:
    """The writes that share one SQLite transaction. `done` is set once its COMMIT succeeded or
    failed (`error`)."""

    opened: float  # time.monotonic() at its BEGIN
    members: int = 0  # writes whose body ran in it, failed ones included
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class _GroupCommit:
    """SQLite's single writer, shared by the writing threads of this process (group commit).

    One connection holds a write transaction (BEGIN IMMEDIATE) open while writes keep coming.
    Each `write()` takes its turn (the writers queue here, first come first served: the turn
    passes straight to the oldest waiter, so a thread that just wrote cannot barge in ahead of
    the others again and again, as it could with a lock), runs its body in a SAVEPOINT of that
    transaction — so a body that fails undoes only its own changes — and then either hands the
    turn to the next waiting writer or, when none waits or the batch is full or older than
    `max_delay`, COMMITs the lot. A writer returns only after the COMMIT holding its changes
    succeeded (its 201 means stored); when that COMMIT fails every writer of the batch raises
    `CommitFailed`. Its after-commit callbacks run after that, in its own thread and outside the
    turn, so a callback may write.

    Whoever has the turn decides about the batch under `_mutex`, and a waiter leaves the queue
    only while someone else has the turn, so an open batch always has a writer that will commit it.

    A write opened inside another one on the same thread (a service calling a service) becomes
    a savepoint inside the outer one and commits with it: one connection cannot hold two
    independent transactions, and the outer one's turn is still running.
    """

    max_writers = 32
    max_delay = 0.010  # seconds: bounds what sharing adds to a write's latency

    def __init__(self, engine: Engine, timeouts: Timeouts) -> None:
        self._engine = engine
        self._timeouts = timeouts
        self._mutex = threading.Lock()
        self._busy = False  # a writer has the turn (under _mutex)
        self._queue: deque[threading.Event] = deque()  # the waiting writers, oldest first (under _mutex)
        # Only the writer with the turn touches these.
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._batch: _Batch | None = None
        self._local = threading.local()  # .callbacks: the running outermost write's, on this thread
        self._sessions = sessionmaker(join_transaction_mode="create_savepoint", expire_on_commit=False)
        event.listen(self._sessions, "after_soft_rollback", lambda s, _t: _drop_after_commit(s))

    @contextmanager
    def write(self) -> Iterator[Session]:
        outer: list[Callable[[], None]] | None = getattr(self._local, "callbacks", None)
        if outer is not None:
            assert self._connection is not None
            with self._sessions(bind=self._connection) as session, session.begin():
                yield session
            outer.extend(session.info.pop(AFTER_COMMIT, []))
            return
        batch = self._take_turn()
        callbacks: list[Callable[[], None]] = []
        self._local.callbacks = callbacks
        try:
            assert self._connection is not None
            with self._sessions(bind=self._connection) as session, session.begin():
                # Its SAVEPOINT now, not at its first statement: a write nested in this one
                # (same thread) must fall inside it, or this one's rollback would leave it.
                session.connection()
                yield session
            callbacks.extend(session.info.pop(AFTER_COMMIT, []))
        except BaseException:
            callbacks.clear()  # rolled back: its callbacks never run
            raise
        finally:
            self._local.callbacks = None
            self._give_turn(batch)
        batch.done.wait()
        if batch.error is not None:
            raise CommitFailed("the commit that held this write failed; nothing of it was stored") from batch.error
        for callback in callbacks:
            callback()

    def close(self) -> None:
        with self._mutex:
            if self._busy or self._connection is None:
                return
            self._connection.close()
            self._connection = None

    def _take_turn(self) -> _Batch:
        with self._mutex:
            mine = None
            if self._busy or self._queue:
                mine = threading.Event()
                self._queue.append(mine)
            else:
                self._busy = True
        if mine is not None and not mine.wait(self._timeouts.lock):
            with self._mutex:
                if mine in self._queue:  # else the turn was handed over just now: it is ours
                    self._queue.remove(mine)
                    raise DatabaseUnavailable("the database is busy: no write lock within the lock timeout")
        try:
            return self._batch or self._open()
        except BaseException:
            self._pass_turn()
            raise

    def _open(self) -> _Batch:
        if self._connection is None:
            self._connection = self._engine.connect()
        try:
            # BEGIN IMMEDIATE waits for other processes' writers (busy_timeout) and may fail.
            self._transaction = self._connection.begin()
        except BaseException:
            self._discard()
            raise
        self._batch = _Batch(opened=time.monotonic())
        return self._batch

    def _give_turn(self, batch: _Batch) -> None:
        batch.members += 1
        if batch.error is None and not self._intact():
            # SQLite rolls a whole transaction back on some errors (disk full, I/O): the earlier
            # writers' changes are gone with it, and a further SAVEPOINT would begin a new one.
            batch.error = DatabaseUnavailable("the write transaction was lost")
        with self._mutex:
            if (
                batch.error is None
                and self._queue
                and batch.members < self.max_writers
                and time.monotonic() - batch.opened < self.max_delay
            ):
                self._queue.popleft().set()  # the batch stays open for the next writer
                return
        try:
            self._finish(batch)
        finally:
            self._pass_turn()

    def _intact(self) -> bool:
        connection, transaction = self._connection, self._transaction
        if connection is None or transaction is None or connection.invalidated or not transaction.is_active:
            return False
        return bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]

    def _finish(self, batch: _Batch) -> None:
        try:
            if batch.error is None:
                assert self._transaction is not None
                self._transaction.commit()
            else:
                self._discard()
        except Exception as exc:  # noqa: BLE001 - handed to every writer of the batch
            batch.error = exc
            self._discard()
        finally:
            self._batch = None
            self._transaction = None
            batch.done.set()

    def _discard(self) -> None:
        """Drop the connection, and with it whatever transaction SQLite still has open; the next
        batch opens a fresh one. Invalidated, not returned to the pool: after a failed COMMIT
        SQLite keeps the transaction open while SQLAlchemy counts it as ended, and the pool
        would hand it out again without rolling it back."""
        connection, self._connection, self._transaction = self._connection, None, None
        if connection is not None:
            connection.invalidate()
            connection.close()

    def _pass_turn(self) -> None:
        with self._mutex:
            if self._queue:
                self._queue.popleft().set()  # `_busy` stays: the turn goes straight to the oldest waiter
            else:
                self._busy = False


class Database:
    """One engine and its two session factories (read and write)."""

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts()
        self.engine = make_engine(url, self.timeouts)
        write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        # PostgreSQL reads run in autocommit: no BEGIN/ROLLBACK round trips around a page of
        # results. (SQLite keeps its BEGIN: it costs nothing there and gives one snapshot.)
        read_engine = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = sessionmaker(bind=read_engine, expire_on_commit=False)
        self._write = sessionmaker(bind=write_engine, expire_on_commit=False)
        # SQLite has one writer: this process's writes queue for it and share its commits.
        self._group = _GroupCommit(write_engine, self.timeouts) if self.is_sqlite else None
        for factory in (self._read, self._write):
            event.listen(factory, "after_commit", _run_after_commit)
            event.listen(factory, "after_soft_rollback", lambda s, _t: _drop_after_commit(s))
        # PostgreSQL's `batch()`: the writes inside it run in savepoints on its connection.
        self._batches = threading.local()  # .open: this thread's running _OpenBatch
        self._in_batch = sessionmaker(join_transaction_mode="create_savepoint", expire_on_commit=False)
        event.listen(self._in_batch, "after_soft_rollback", lambda s, _t: _drop_after_commit(s))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error.

        It returns once the changes are committed. On SQLite that COMMIT may be shared with the
        writes of other threads (`_GroupCommit`); a write opened inside another one on the same
        thread commits with the outer one there.
        """
        if self._group is not None:
            with self._group.write() as session:
                yield session
            return
        batch: _OpenBatch | None = getattr(self._batches, "open", None)
        if batch is not None:
            with self._in_batch(bind=batch.connection) as session, session.begin():
                yield session
            batch.callbacks.extend(session.info.pop(AFTER_COMMIT, []))
            return
        with self._write.begin() as session:
            yield session

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The writes this thread opens inside it share one transaction, each in a savepoint of
        its own: a write that fails rolls back alone, the others commit together at the end and
        their after-commit callbacks run then. For bulk work whose cost is a COMMIT per item
        (`huiying mail import`); it holds the write lock throughout, so keep it short. A failed
        final COMMIT raises (CommitFailed on SQLite) and nothing of the batch is stored."""
        if self._group is not None:
            with self._group.write():  # its writes on this thread already nest in savepoints
                yield
            return
        if getattr(self._batches, "open", None) is not None:
            yield  # inside a batch already: part of it
            return
        callbacks: list[Callable[[], None]] = []
        with self._write.begin() as session:
            self._batches.open = _OpenBatch(session.connection(), callbacks)
            try:
                yield
            finally:
                self._batches.open = None
        for callback in callbacks:
            callback()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; whatever it did is rolled back at the end."""
        with self._read() as session:
            yield session

    def dispose(self) -> None:
        if self._group is not None:
            self._group.close()
        self.engine.dispose()


def call_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed; never if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)
