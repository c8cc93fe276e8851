"""Engines, sessions and the declarative base, for SQLite (embedded) and PostgreSQL.

Nothing is built at import time: `Database` is created by whoever runs the process (the web app,
a CLI command, a worker) from the settings, and handed down.

Sessions come in two kinds. On SQLite a transaction that will write starts with
`BEGIN IMMEDIATE`: it takes the single write lock up front and waits for it (busy_timeout),
instead of starting as a reader and failing with SQLITE_BUSY when it later tries to write.
Read-only sessions start with a plain `BEGIN` and never block writers (WAL).
Writers of one process also queue on a lock in Python: a waiting thread wakes the moment the
previous writer commits, where SQLite's own busy handler would sleep and poll.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event, make_url
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
        # Re-entrant: a write opened inside another one on the same thread must not deadlock here.
        self._writer_lock = threading.RLock() if self.is_sqlite else None
        for factory in (self._read, self._write):
            event.listen(factory, "after_commit", _run_after_commit)
            event.listen(factory, "after_soft_rollback", lambda s, _t: _drop_after_commit(s))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._queue_for_writing(), self._write.begin() as session:
            yield session

    @contextmanager
    def _queue_for_writing(self) -> Iterator[None]:
        if self._writer_lock is None:
            yield
            return
        if not self._writer_lock.acquire(timeout=self.timeouts.lock):
            raise DatabaseUnavailable("the database is busy: no write lock within the lock timeout")
        try:
            yield
        finally:
            self._writer_lock.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; whatever it did is rolled back at the end."""
        with self._read() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def call_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed; never if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)
