"""What "VIPs and special groups first" costs a queue: one page of the open queue (50 rows,
repository.list_page) with N tickets stored, plain order vs lane-first (two reads: the lane,
then the rest), median of 30, and the EXPLAIN of each part.

    .venv/bin/python bench/lane_first.py --db sqlite --tickets 100000   (--db postgresql, --lane-every 100)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from common import fresh_database
from seed import seed_tickets

from huiying.config import Settings
from huiying.db import Database
from huiying.tickets import repository
from huiying.tickets.repository import TicketQuery, _page_statement
from huiying.web import queues


def _median_ms(db: Database, query: TicketQuery, runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        with db.read() as session:
            start = time.perf_counter()
            repository.list_page(session, query, limit=50)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _explain(db: Database, query: TicketQuery) -> str:
    with db.read() as session:
        statement = _page_statement(session, repository._LIST_SELECT, query, None, 50)
        compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if session.get_bind().dialect.name == "sqlite" else "EXPLAIN "
        rows = session.execute(text(prefix + str(compiled))).all()
        return "\n".join("    " + " | ".join(str(c) for c in row) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--lane-every", type=int, default=100, help="one ticket in N is VIP or special")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = fresh_database(args.db, Path(workdir))
        db = Database(url)
        seed_tickets(db, Settings(database_url=url), args.tickets)
        with db.write() as session:
            session.execute(text("UPDATE tickets SET vip = (id % :n = 0)"), {"n": args.lane_every})
            session.execute(
                text("UPDATE tickets SET special_group = 'elderly' WHERE id % :n = 7"), {"n": args.lane_every * 3}
            )
        if args.db == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE tickets"))
        plain = TicketQuery(status=queues.ACTIVE)
        lane = TicketQuery(status=queues.ACTIVE, lane_first=True)
        with db.read() as session:
            active = repository.count_tickets(session, plain)
            in_lane = repository.count_tickets(session, TicketQuery(status=queues.ACTIVE, vip=True))
        print(f"{args.db}: {args.tickets} tickets, {active} active, {in_lane}+ VIP among them")
        print(f"  open queue, plain order : {_median_ms(db, plain):7.2f} ms / page of 50")
        print(f"  open queue, lane first  : {_median_ms(db, lane):7.2f} ms / page of 50")
        print("  EXPLAIN lane part:")
        print(_explain(db, TicketQuery(status=queues.ACTIVE, extra=[repository._in_lane(True)])))
        print("  EXPLAIN rest part:")
        print(_explain(db, TicketQuery(status=queues.ACTIVE, extra=[repository._in_lane(False)])))
        db.dispose()


if __name__ == "__main__":
    main()
