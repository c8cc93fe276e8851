"""Human-friendly ticket numbers: prefix, local date, a daily sequence — `HY261123-0042`.

Numbers are unique and increase within a local day; they may have gaps. On PostgreSQL the daily
sequence is a database sequence per day (`day_sequences`): taking a number holds no lock, so
concurrent creates do not wait on each other, and a create that rolls back leaves its number
unused. On SQLite, where one writer works at a time anyway, it is a counter row bumped with an
upsert inside the creating transaction (a rollback undoes the bump there).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from huiying.tickets import day_sequences
from huiying.tickets.models import Ticket, TicketCounter

_LOOSE = re.compile(r"^([A-Z]*)(\d{6})-?(\d{4,})$")


def day_key(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%y%m%d")


def format_number(prefix: str, day: str, sequence: int) -> str:
    return f"{prefix}{day}-{sequence:04d}"


def next_number(session: Session, *, moment: datetime, tz: tzinfo, prefix: str) -> str:
    """Take the next number of `moment`'s local day (unique, increasing within the day, gaps possible)."""
    return next_id_and_number(session, moment=moment, tz=tz, prefix=prefix)[1]


def next_id_and_number(session: Session, *, moment: datetime, tz: tzinfo, prefix: str) -> tuple[int, str]:
    """A new ticket's id and number, before its row is written (events and history refer to it).

    PostgreSQL: both from sequences, in one round trip. SQLite: one past the largest id, which is
    what SQLite itself would assign; safe because a write transaction there holds the database's
    only write lock from its first statement (BEGIN IMMEDIATE, db.py)."""
    day = day_key(moment, tz)
    if session.get_bind().dialect.name == "postgresql":
        sequence, ticket_id = day_sequences.next_value_and_id(session, day)
    else:
        ticket_id = (session.execute(_LARGEST_ID).scalar_one() or 0) + 1
        sequence = _bump_counter(session, day)
    return ticket_id, format_number(prefix, day, sequence)


# Built once: composing them per create cost more than running them. max() alone: SQLite answers
# it from the primary key (wrapped in an expression it would scan the table).
_LARGEST_ID = select(func.max(Ticket.id))
_BUMP = (
    sqlite.insert(TicketCounter)
    .values(day=bindparam("day"), value=1)
    .on_conflict_do_update(index_elements=[TicketCounter.day], set_={"value": TicketCounter.value + 1})
    .returning(TicketCounter.value)
)


def _bump_counter(session: Session, day: str) -> int:
    """SQLite's counter (PostgreSQL uses day_sequences)."""
    return int(session.execute(_BUMP, {"day": day}).scalar_one())


def normalise_number(text: str) -> str:
    """A number as people type it (lower case, spaces, no dash) in its canonical form."""
    compact = re.sub(r"\s+", "", text).upper()
    match = _LOOSE.match(compact)
    if not match:
        return compact
    prefix, day, sequence = match.groups()
    return f"{prefix}{day}-{sequence}"
