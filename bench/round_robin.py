"""Benchmark: round-robin assignment under concurrent creates (PostgreSQL, service level).

    .venv/bin/python bench/round_robin.py --tickets 800 --threads 16 --agents 8

N threads create tickets at once through `intake.create_ticket` (no HTTP), every ticket sent to
one team (a stand-in for routing, subscribed before assignment as wiring does; it also drops the
mode the default routing rules name, `skill`, so the team's own mode applies), first with the
team in `manual` mode, then in `round_robin`. For each: creates/s, p50/p99 of one create. For
round robin also the tickets per agent: the team row is locked FOR UPDATE while choosing
(assignment/service.py), so the spread must be even (max - min <= 1) and nobody left unassigned.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from common import DEFAULT_PG, PASSWORD, fresh_database
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from huiying import events, migrate, wiring
from huiying.accounts import service as accounts
from huiying.accounts import teams
from huiying.accounts.models import User
from huiying.assignment import service as assignment
from huiying.bootstrap import ensure_defaults
from huiying.config import Settings
from huiying.db import Database
from huiying.kit import text as kit_text
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.tickets import intake
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

TEAM = "tech-support"


def _to_team(session: object, event: events.Event) -> None:
    """Every new ticket to TEAM, whatever routing chose (the bench measures assignment)."""
    assert isinstance(event, events.TicketCreated)
    ticket = intake.being_created(session, event.ticket_id)  # type: ignore[arg-type]
    if ticket is not None:
        ticket.team = teams.active_team(session, TEAM)  # type: ignore[arg-type]
        # The default routing rules name a mode of their own (skill), which would win over the
        # team's: drop it, so the team's mode is what is measured.
        triage = dict(ticket.triage or {})
        triage["routing"] = {k: v for k, v in (triage.get("routing") or {}).items() if k != "assignment_mode"}
        ticket.triage = triage


def own_postgres_database() -> str:
    """A database of this bench's own: common.fresh_database's `huiying_bench` is shared by every
    bench, and another one started meanwhile drops it under this one."""
    base = make_url(os.environ.get("HUIYING_BENCH_DATABASE_URL", DEFAULT_PG))
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "huiying_bench_round_robin" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "huiying_bench_round_robin"'))
    admin.dispose()
    url = base.set(database="huiying_bench_round_robin").render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db.engine)
    with db.write() as session:
        ensure_defaults(session)
    db.dispose()
    return url


LOCK_WAITS: list[float] = []


def _timed_lock() -> None:
    """Wrap the team-row lock: how long each create waits for the turn of the team."""
    original = assignment._lock_team

    def timed(session: object, team: object) -> None:
        began = time.perf_counter()
        original(session, team)  # type: ignore[arg-type]
        LOCK_WAITS.append((time.perf_counter() - began) * 1000)

    assignment._lock_team = timed  # type: ignore[assignment]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms   n={len(ordered)}"


def run(db: Database, settings: Settings, *, tickets: int, threads: int, tag: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    guard = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        done = []
        start.wait()
        for i in range(index, tickets, threads):
            feedback = FeedbackIn(description=f"无法登录，提示密码错误（第{i}次）", title=f"{tag}-{i}", user_id=tag)
            began = time.perf_counter()
            with db.write() as session:
                intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings)
            done.append((time.perf_counter() - began) * 1000)
        with guard:
            latencies.extend(done)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return len(latencies) / (time.perf_counter() - began), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--tickets", type=int, default=800)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--agents", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = own_postgres_database() if args.db == "postgresql" else fresh_database(args.db, Path(tmp))
        db = Database(url)
        settings = Settings(database_url=url, secret_key="k" * 40)
        wiring.install_handlers()
        events.unsubscribe(assignment._on_created)
        events.subscribe_in_transaction(events.TicketCreated, _to_team)
        events.subscribe_in_transaction(events.TicketCreated, assignment._on_created)
        kit_text.warm_up()
        _timed_lock()
        with db.write() as session:
            for n in range(args.agents):
                accounts.create_user(
                    session, email=f"agent{n}@example.com", password=PASSWORD, role=Role.AGENT, team_slugs=[TEAM]
                )
        results = {}
        for mode in ("manual", "round_robin"):
            with db.write() as session:
                team = teams.team_by_slug(session, TEAM)
                assignment.configure_team(session, team, changes={"assignment_mode": mode}, actor=SYSTEM)
            run(db, settings, tickets=args.threads * 2, threads=args.threads, tag=f"warm-{mode}")
            LOCK_WAITS.clear()
            results[mode] = run(db, settings, tickets=args.tickets, threads=args.threads, tag=mode)
        waits = list(LOCK_WAITS)
        with db.read() as session:
            rows = session.execute(
                select(User.email)
                .outerjoin(Ticket, Ticket.assignee_id == User.id)
                .where(Ticket.user_id == "round_robin")
            ).all()
            unassigned = session.scalar(
                select(Ticket.id).where(Ticket.user_id == "round_robin", Ticket.assignee_id.is_(None)).limit(1)
            )
            manual_assigned = session.scalar(
                select(Ticket.id).where(Ticket.user_id == "manual", Ticket.assignee_id.is_not(None)).limit(1)
            )
        db.dispose()
    spread = Counter(email for (email,) in rows)
    print(f"{args.db}: {args.tickets} creates per mode, {args.threads} threads, {args.agents} agents, service level")
    for mode, (rate, latencies) in results.items():
        print(f"{mode:12s} {rate:7.1f} creates/s   {percentiles(latencies)}")
    if waits:
        print(f"round_robin wait for the team lock: {percentiles(waits)}")
    counts = sorted(spread.values())
    print(f"round_robin per agent: {dict(sorted(spread.items()))}")
    even = bool(counts) and counts[-1] - counts[0] <= 1 and len(counts) == args.agents and unassigned is None
    print(
        f"spread: min {counts[0] if counts else 0}, max {counts[-1] if counts else 0}: {'even' if even else 'UNEVEN'}"
    )
    print(f"manual mode assigned nobody: {manual_assigned is None}")
    if not even or manual_assigned is not None:
        sys.exit(1)


if __name__ == "__main__":
    main()
