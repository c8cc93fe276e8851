"""Human-friendly ticket numbers: prefix, local date, a daily sequence — `HY261123-0042`.

The sequence is a counter row bumped with an upsert inside the creating transaction. The row
lock serialises concurrent creators on PostgreSQL and is released at commit, and a rolled-back
creation rolls its bump back too: numbers are unique and leave no gaps.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from huiying.kit.sql import dialect_insert
from huiying.tickets.models import TicketCounter

_LOOSE = re.compile(r"^([A-Z]*)(\d{6})-?(\d{4,})$")


def day_key(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%y%m%d")


def format_number(prefix: str, day: str, sequence: int) -> str:
    return f"{prefix}{day}-{sequence:04d}"


def next_number(session: Session, *, moment: datetime, tz: tzinfo, prefix: str) -> str:
    """Take the next number of `moment`'s local day."""
    day = day_key(moment, tz)
    insert = dialect_insert(session, TicketCounter).values(day=day, value=1)
    statement = insert.on_conflict_do_update(
        index_elements=[TicketCounter.day], set_={"value": TicketCounter.value + 1}
    ).returning(TicketCounter.value)
    sequence = session.execute(statement).scalar_one()
    return format_number(prefix, day, sequence)


def normalise_number(text: str) -> str:
    """A number as people type it (lower case, spaces, no dash) in its canonical form."""
    compact = re.sub(r"\s+", "", text).upper()
    match = _LOOSE.match(compact)
    if not match:
        return compact
    prefix, day, sequence = match.groups()
    return f"{prefix}{day}-{sequence}"
