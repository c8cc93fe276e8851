"""The SLA sweep over 1,000,000 open tickets: one sweep when nothing is due (aim < 1 s), then the
time per warned ticket (claim + enqueue, and claim + act inline as the CLI does), with EXPLAIN
of each kind's query to show it uses an (active, due) index.

.venv/bin/python bench/sla_sweep.py [--rows 1000000] [--only sqlite|postgresql]
PostgreSQL from HUIYING_BENCH_DATABASE_URL (default: the local test server); a database
`huiying_sla_bench` is created and dropped there. SQLite lives under /tmp.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("HUIYING_SECRET_KEY", "bench-secret-" + "x" * 40)

from huiying import migrate
from huiying.bootstrap import ensure_defaults
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.sla import sweep

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
WARNED = sweep.BATCH  # one sweep claims at most this many per kind

# Every NOT NULL column of tickets, as SQL over the series value `n`: open, answered neither,
# first response due 1 to 5 days ahead, resolution 5 to 30 days ahead (nothing in the window).
COLUMNS = {
    "number": "'B' || n",
    "channel": "'app'",
    "title": "'bench ' || n",
    "description": "'bench ticket'",
    "priority": "'medium'",
    "status": "'open'",
    "active": "{true}",
    "needs_refinement": "{false}",
    "team_chosen": "{false}",
    "links": "'{{}}'",
    "vip": "{false}",
    "escalation_level": "0",
    "reopen_count": "0",
    "received_at": "{now}",
    "created_at": "{now}",
    "updated_at": "{now}",
    "search_tokens": "''",
    "first_response_due": "{now} + {interval_response}",
    "resolution_due": "{now} + {interval_resolution}",
}


def _create(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'sla_bench.db'}"
    base = make_url(os.environ.get("HUIYING_BENCH_DATABASE_URL", DEFAULT_PG))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "huiying_sla_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "huiying_sla_bench"'))
    admin.dispose()
    return base.set(database="huiying_sla_bench").render_as_string(hide_password=False)


def _drop(kind: str) -> None:
    if kind == "postgresql":
        base = make_url(os.environ.get("HUIYING_BENCH_DATABASE_URL", DEFAULT_PG))
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "huiying_sla_bench" WITH (FORCE)'))
        admin.dispose()


def _fill(db: Database, kind: str, rows: int) -> None:
    if kind == "postgresql":
        values = {
            "true": "true",
            "false": "false",
            "now": "TIMESTAMPTZ '2026-12-02 02:00:00+00'",
            "interval_response": "make_interval(hours => 24 + (n % 96))",
            "interval_resolution": "make_interval(days => 5 + (n % 25))",
        }
        source = f"FROM generate_series(1, {rows}) AS n"
        prefix = ""
    else:
        # The stored form of UTCDateTime on SQLite: ISO text in UTC (see db.py).
        values = {
            "true": "1",
            "false": "0",
            "now": "'2026-12-02 02:00:00.000000'",
            "interval_response": "0",
            "interval_resolution": "0",
        }
        source = "FROM s"
        # SQLite takes the CTE between the INSERT's column list and its SELECT.
        prefix = f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) "
    exprs = {name: expr.format(**values) for name, expr in COLUMNS.items()}
    if kind == "sqlite":
        # strftime's %f has milliseconds; SQLAlchemy writes microseconds: pad to its form.
        at = "strftime('%Y-%m-%d %H:%M:%f', '2026-12-02 02:00:00', '+' || ({}) || ' {}') || '000'"
        exprs["first_response_due"] = at.format("24 + n % 96", "hours")
        exprs["resolution_due"] = at.format("5 + n % 25", "days")
    statement = f"INSERT INTO tickets ({', '.join(exprs)}) {prefix}SELECT {', '.join(exprs.values())} {source}"
    with db.engine.begin() as connection:
        if kind == "postgresql":
            connection.execute(text("SET LOCAL statement_timeout = 0"))  # the app's limit is for requests
        connection.execute(text(statement))
        connection.execute(text("ANALYZE tickets" if kind == "postgresql" else "ANALYZE"))


def _explain(db: Database, kind: str) -> None:
    from sqlalchemy import select

    from huiying.tickets.models import Ticket

    with db.engine.connect() as connection:
        for k in sweep.KINDS:
            query = select(Ticket.id).where(sweep.due_condition(k, NOW, sweep.WARN_BEFORE)).order_by(k.due).limit(500)
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN " if kind == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = [" ".join(str(c) for c in row) for row in connection.execute(text(prefix + str(compiled)))]
            print(f"  {k.name:<19} " + " | ".join(p.strip() for p in plan))


def _sample_stored_time(db: Database) -> None:
    with db.engine.connect() as connection:
        print("  stored due sample:", connection.execute(text("SELECT resolution_due FROM tickets LIMIT 1")).scalar())


def run(kind: str, rows: int) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as workdir:
        url = _create(kind, Path(workdir))
        db = Database(url)
        try:
            migrate.upgrade(db.engine)
            with db.write() as session:
                ensure_defaults(session)
            started = time.perf_counter()
            _fill(db, kind, rows)
            print(f"{kind}: {rows:,} open tickets written in {time.perf_counter() - started:.1f} s")
            if kind == "sqlite":
                _sample_stored_time(db)
            _explain(db, kind)
            times = []
            for _ in range(7):
                with frozen(NOW):
                    started = time.perf_counter()
                    result = sweep.sweep(db)
                    times.append(time.perf_counter() - started)
                assert result.warned == result.breached == 0, result
            print(f"  empty sweep: median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")

            def bring_into_window(first: int, last: int) -> None:
                with db.engine.begin() as connection:
                    due = "'2026-12-02 02:10:00.000000'"
                    if kind == "postgresql":
                        due = "TIMESTAMPTZ '2026-12-02 02:10:00+00'"
                    connection.execute(
                        text(f"UPDATE tickets SET resolution_due = {due} WHERE id BETWEEN {first} AND {last}")
                    )

            bring_into_window(1, WARNED)
            with frozen(NOW):
                started = time.perf_counter()
                result = sweep.sweep(db)
                elapsed = time.perf_counter() - started
            assert result.warned == WARNED, result
            print(f"  {WARNED} warned, claimed + enqueued: {elapsed / WARNED * 1000:.2f} ms/ticket ({elapsed:.2f} s)")
            bring_into_window(WARNED + 1, 2 * WARNED)
            with frozen(NOW):
                started = time.perf_counter()
                result = sweep.sweep(db, inline=True)
                elapsed = time.perf_counter() - started
            assert result.warned == WARNED, result
            print(
                f"  {WARNED} warned, claimed + acted inline: {elapsed / WARNED * 1000:.2f} ms/ticket ({elapsed:.2f} s)"
            )
        finally:
            db.dispose()
            _drop(kind)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for kind in [args.only] if args.only else ["postgresql", "sqlite"]:
        run(kind, args.rows)


if __name__ == "__main__":
    main()
