"""Notices at scale: the 48 h sweep (notices/overdue.py) over N stored tickets — the first sweeps,
which announce the delay on every open ticket past 48 h (tickets per second), and the steady state
when every one was told already (one sweep, median of 7: the query that finds nobody) — and the
delivery of notices through a channel that costs nothing to send (notices per second: the
rows, the job, the words, the recording).

.venv/bin/python bench/notices.py --db sqlite --tickets 100000   (--db postgresql, --notices 2000)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HUIYING_SECRET_KEY", "bench-secret-" + "x" * 40)

from common import fresh_database
from seed import seed_tickets
from sqlalchemy import func, select

from huiying import wiring
from huiying.channels import registry
from huiying.channels.base import Delivered, Outgoing
from huiying.channels.models import MessageDelivery
from huiying.config import Settings
from huiying.db import Database
from huiying.notices import overdue, triggers
from huiying.tickets.models import Ticket
from huiying.worker import runner


class Counting:
    """A channel that sends nothing: what is left is Huiying's own cost per notice."""

    name = "sms"

    def __init__(self) -> None:
        self.sent = 0

    def deliver(self, outgoing: Outgoing) -> Delivered:
        self.sent += 1
        return Delivered(external_id=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--notices", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(args.db, Path(folder))
        settings = Settings(database_url=url, data_dir=Path(folder), quiet_hours="", embedded_jobs=False)
        wiring.install(settings)
        sender = Counting()
        registry.register("sms", sender)
        registry.register_notices("sms", lambda session, ticket, kind: True)
        db = Database(url)
        seed_tickets(db, settings, args.tickets)
        with db.engine.connect() as connection:  # fresh statistics, as autovacuum keeps them
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
        with db.read() as session:
            late = len(overdue.due_ids(session, limit=10**9))
        started, swept = time.perf_counter(), 0
        while True:
            with db.read() as session:
                due = len(overdue.due_ids(session))
            if not due:
                break
            overdue.sweep(db)
            swept += due
        first = time.perf_counter() - started
        quiet = []
        for _ in range(7):
            began = time.perf_counter()
            overdue.sweep(db)
            quiet.append(time.perf_counter() - began)
        print(f"{args.db}: {args.tickets} tickets over 90 days, {late} open 48 h to 9 days after they came in")
        print(f"  first sweeps: {swept} delays announced in {first:.2f} s = {swept / first:.0f} tickets/s")
        print(f"  steady sweep (nobody due): median {statistics.median(quiet) * 1000:.1f} ms of 7")

        while runner.run_due(db):  # the sweep's own delay notices go first, untimed
            pass
        with db.read() as session:
            ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id).limit(args.notices)))
        began = time.perf_counter()
        for n, ticket_id in enumerate(ids):
            with db.write() as session:
                ticket = session.get_one(Ticket, ticket_id)
                triggers.notify(session, ticket, kind="suggestion", key=f"bench:{n}", detail={"outcome": "adopted"})
        queued = time.perf_counter() - began
        sender.sent, began = 0, time.perf_counter()
        while runner.run_due(db):
            pass
        sent = time.perf_counter() - began
        with db.read() as session:
            rows = session.scalar(
                select(func.count()).select_from(MessageDelivery).where(MessageDelivery.kind == "suggestion")
            )
        print(
            f"  notices: {len(ids)} queued in {queued:.2f} s ({len(ids) / queued:.0f}/s, one transaction each),"
            f" {sender.sent} sent in {sent:.2f} s ({sender.sent / sent:.0f}/s); rows {rows}"
        )
        db.dispose()


if __name__ == "__main__":
    main()
