"""Fill a database with realistic tickets fast (bulk inserts), for benchmarks.

Rows look like what intake writes: numbers from the per-day counters, jieba search tokens,
one `created` event each, statuses and categories in plausible proportions.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from huiying.config import Settings
from huiying.db import Database
from huiying.demo.samples import APP_VERSIONS, CITIES, DEVICES, SAMPLES
from huiying.kit.masking import mask_contact
from huiying.kit.sql import dialect_insert
from huiying.kit.text import document, search_tokens
from huiying.privacy import crypto
from huiying.tickets import day_sequences
from huiying.tickets.models import Ticket, TicketCounter, TicketEvent
from huiying.tickets.numbering import day_key, format_number

STATUSES = ["new"] * 20 + ["open"] * 15 + ["pending"] * 10 + ["resolved"] * 15 + ["closed"] * 40
BATCH = 5000


def _contact_columns(contact: str) -> dict[str, str]:
    return {
        "contact_encrypted": crypto.encrypt(contact),
        "contact_masked": mask_contact(contact),
        "contact_digest": crypto.digest(contact),
    }


def seed_tickets(db: Database, settings: Settings, count: int, *, days: int = 90, seed: int = 7) -> None:
    """Insert `count` tickets created over the last `days` days."""
    rng = random.Random(seed)
    tokens = [search_tokens(document(s.title, s.description)) for s in SAMPLES]
    now = datetime.now(UTC)
    moments = sorted(now - timedelta(seconds=rng.randrange(60, days * 86400)) for _ in range(count))
    per_day: Counter[str] = Counter()
    with db.write() as session:
        first_id = (session.query(Ticket.id).order_by(Ticket.id.desc()).limit(1).scalar() or 0) + 1
    for start in range(0, count, BATCH):
        tickets, events = [], []
        for offset, moment in enumerate(moments[start : start + BATCH]):
            ticket_id = first_id + start + offset
            index = rng.randrange(len(SAMPLES))
            sample = SAMPLES[index]
            day = day_key(moment, settings.tz)
            per_day[day] += 1
            os_name, model = rng.choice(DEVICES)
            status = rng.choice(STATUSES)
            tickets.append(
                {
                    "id": ticket_id,
                    "number": format_number(settings.ticket_number_prefix, day, per_day[day]),
                    "channel": rng.choice(["app", "app", "app", "web", "email", "hotline", "wechat"]),
                    "user_id": f"u{rng.randrange(10**7, 10**8)}",
                    **_contact_columns(f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}"),
                    "title": sample.title,
                    "description": sample.description,
                    "category": sample.category,
                    "subcategory": sample.subcategory or None,
                    "priority": sample.priority,
                    "status": status,
                    "needs_refinement": False,
                    "active": status in ("new", "open", "pending"),
                    "device_os": os_name,
                    "device_model": model,
                    "app_version": rng.choice(APP_VERSIONS),
                    "city": rng.choice(CITIES),
                    "links": {},
                    "vip": rng.random() < 0.05,
                    "escalation_level": 0,
                    "reopen_count": 0,
                    "received_at": moment,
                    "created_at": moment,
                    "updated_at": moment,
                    "search_tokens": tokens[index],
                }
            )
            events.append(
                {
                    "ticket_id": ticket_id,
                    "actor_type": "user",
                    "actor_name": "bench",
                    "action": "created",
                    "created_at": moment,
                }
            )
        with db.write() as session:
            session.execute(insert(Ticket.__table__), tickets)
            session.execute(insert(TicketEvent.__table__), events)
    with db.write() as session:
        for day, value in per_day.items():
            statement = dialect_insert(session, TicketCounter).values(day=day, value=value)
            session.execute(statement.on_conflict_do_update(index_elements=[TicketCounter.day], set_={"value": value}))
        if not db.is_sqlite:  # explicit ids were inserted: move the sequences past them
            for table in ("tickets", "ticket_events"):
                session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
    if not db.is_sqlite:
        # Intake numbers from a sequence per day there; one not made yet starts after the row.
        for day, value in per_day.items():
            day_sequences.advance(db.engine, day, past=value)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
