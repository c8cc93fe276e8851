"""PostgreSQL: one database sequence per local day hands out the ticket numbers (`ticket_no_261202`).

`nextval` takes no lock and is not undone by a rollback: concurrent creates never wait on each
other for a number, and a create that rolls back leaves a gap. A day's sequence is created on
its first use, or ahead of time by the periodic `ticket_number_days` job, in a short autocommit
connection of its own: DDL inside the creating transaction would hold catalog locks until that
create commits. It starts after the day's `ticket_counters` row, so on the day of the upgrade
from the counter (which SQLite keeps using) no number repeats. Each process remembers the days it
has checked, per engine, so the check costs one query per day and process.
"""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import datetime, timedelta, timezone, tzinfo
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from huiying import jobs
from huiying.db import Database
from huiying.kit.clock import utcnow
from huiying.tickets.models import TicketCounter

JOB = "ticket_number_days"
KEEP_DAYS = 7  # sequences of older days are dropped: no number is taken for a past day
_PREFIX = "ticket_no_"
_DAY = re.compile(r"^\d{6}$")
_OID = text("SELECT CAST(to_regclass(:name) AS oid)")
# The new ticket's id comes in the same round trip (intake needs it before the row is written).
_NEXT_WITH_ID = text("SELECT nextval(CAST(CAST(:oid AS oid) AS regclass)), nextval('tickets_id_seq')")

# The days each engine has found a sequence for, with its OID: nextval by OID looks up no name,
# so it cannot meet the "missing" a lookup earlier in the same transaction may have cached.
_known: WeakKeyDictionary[Engine, dict[str, int]] = WeakKeyDictionary()
# One thread per process does the DDL: the others would each hold a second pooled connection.
_creating = threading.Lock()


def sequence_name(day: str) -> str:
    if not _DAY.match(day):
        raise ValueError(f"not a day key: {day!r}")
    return f"{_PREFIX}{day}"


def next_value_and_id(session: Session, day: str) -> tuple[int, int]:
    """The next number of `day` (a `%y%m%d` key, its sequence created on first use) and the next
    ticket id, in one round trip."""
    number, ticket_id = session.execute(_NEXT_WITH_ID, {"oid": _oid(session, day)}).one()
    return int(number), int(ticket_id)


def _oid(session: Session, day: str) -> int:
    engine = session.get_bind().engine
    oid = _known.get(engine, {}).get(day)
    if oid is None:
        # In the caller's transaction: a catalog lookup, no lock kept.
        found = session.execute(_OID, {"name": sequence_name(day)}).scalar_one()
        if found is None:
            with _creating:
                found = _known.get(engine, {}).get(day) or create(engine, day)
        oid = _known.setdefault(engine, {})[day] = int(found)
    return oid


def create(engine: Engine, day: str) -> int:
    """The OID of `day`'s sequence, made first if missing (starting after the day's counter row)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        _create(connection, day)
        return int(connection.execute(_OID, {"name": sequence_name(day)}).scalar_one())


def _create(connection: Connection, day: str) -> None:
    name = sequence_name(day)
    last = connection.execute(select(TicketCounter.value).where(TicketCounter.day == day)).scalar()
    # Two creators may race on the catalog (IF NOT EXISTS does not cover that): the winner's
    # sequence, seeded from the same row, is the day's.
    with contextlib.suppress(IntegrityError):
        connection.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint START WITH {(last or 0) + 1}"))


def advance(engine: Engine, day: str, *, past: int) -> None:
    """Make `day`'s sequence, if it exists, hand out numbers above `past` (for rows inserted with
    numbers of their own, like bench data; a missing sequence starts after the counter row)."""
    name = sequence_name(day)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.execute(text("SELECT to_regclass(:name) IS NULL"), {"name": name}).scalar_one():
            return
        taken = f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {name})"  # noqa: S608 - a checked day key
        connection.execute(
            text(f"SELECT setval(CAST(:name AS regclass), :past) WHERE {taken} < :past"), {"name": name, "past": past}
        )


def days(engine: Engine) -> list[str]:
    """The days that have a sequence, oldest first."""
    with engine.connect() as connection:
        return _days(connection)


def _days(connection: Connection) -> list[str]:
    names = connection.execute(
        text("SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE :pattern AND pg_table_is_visible(oid)"),
        {"pattern": _PREFIX.replace("_", "\\_") + "%"},
    ).scalars()
    found = (name.removeprefix(_PREFIX) for name in names)
    return sorted(day for day in found if _DAY.match(day))


def drop(engine: Engine, *, before: str | None = None) -> None:
    """Drop the sequences of days before `before` (every one with None: tests, after truncating)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for day in _days(connection):
            if before is None or day < before:
                connection.execute(text(f"DROP SEQUENCE IF EXISTS {sequence_name(day)}"))


def prepare_days(db: Database) -> None:
    """Periodic: create tomorrow's sequence ahead of its first ticket; drop those past KEEP_DAYS."""
    if db.is_sqlite:
        return
    now = utcnow()
    # The job does not know the platform's time zone. Tomorrow anywhere (UTC-12 to UTC+14) is
    # at most three days, and a day created early starts right all the same.
    zones = [timezone(timedelta(hours=hours)) for hours in range(-12, 15)]
    tomorrow = sorted({_day_of(now + timedelta(days=1), zone) for zone in zones})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for day in tomorrow:
            _create(connection, day)
    drop(db.engine, before=_day_of(now - timedelta(days=KEEP_DAYS), zones[0]))


def _day_of(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%y%m%d")


def register_jobs() -> None:
    jobs.register_periodic(JOB, prepare_days, every=timedelta(hours=1))
