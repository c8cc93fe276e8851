"""Benchmark: what the SLA clock (and with `--with routing,assignment` also routing and automatic
assignment) adds to intake. Microseconds per due computation (policy match plus both targets on
the standard working calendar and on 24×7), and a whole create with those handlers subscribed and
unsubscribed (service level, SQLite or PostgreSQL, no HTTP). `--round-robin N` gives the
tickets' team (tech-server) N agents and round robin, so assignment does its real work.

    .venv/bin/python bench/sla_cost.py --db sqlite --tickets 1000
    .venv/bin/python bench/sla_cost.py --db postgresql --with routing,assignment --round-robin 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import fresh_database

from huiying import events, wiring
from huiying.accounts import service as accounts
from huiying.accounts import teams
from huiying.assignment import service as assignment
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.routing import service as routing
from huiying.sla import due
from huiying.sla import service as sla
from huiying.sla.policies import TicketFacts, choose
from huiying.tickets import intake
from huiying.tickets.schemas import FeedbackIn

# In wiring's order: routing, then assignment, then the SLA.
HANDLERS = {
    "routing": ((events.TicketCreated, routing._on_created), (events.TicketChanged, routing._on_changed)),
    "assignment": ((events.TicketCreated, assignment._on_created), (events.TicketChanged, assignment._on_changed)),
    "sla": (
        (events.TicketCreated, sla._on_created),
        (events.TicketChanged, sla._on_changed),
        (events.StatusChanged, sla._on_status),
        (events.MessageAdded, sla._on_message),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--with", dest="more", default="", help="also measure: routing,assignment")
    parser.add_argument("--round-robin", type=int, default=0, metavar="N", help="N agents, round robin")
    args = parser.parse_args()
    measured = [name for name in HANDLERS if name == "sla" or name in args.more.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, Path(tmp))
        db = Database(url)
        settings = Settings(database_url=url, secret_key="k" * 40)
        wiring.install_handlers()
        if args.round_robin:
            with db.write() as session:
                team = teams.team_by_slug(session, "tech-server")
                for n in range(args.round_robin):
                    accounts.create_user(session, email=f"rr{n}@example.com", password="long password 123",
                                         role=Role.AGENT, team_slugs=["tech-server"])  # fmt: skip
                assignment.configure_team(session, team, changes={"assignment_mode": "round_robin"}, actor=SYSTEM)
        start = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
        with db.read() as session:
            policies = sla.active_policies(session)
            for priority, category in (("medium", "technical"), ("high", "commercial"), ("urgent", "content")):
                facts = TicketFacts(priority=priority, category=category)
                began = time.perf_counter()
                for i in range(args.rounds):
                    policy = choose(policies, facts)
                    assert policy is not None
                    calendar = sla.calendar_for(session, policy, None)
                    due.targets(policy, start + timedelta(minutes=i % 5000), calendar)
                micros = (time.perf_counter() - began) / args.rounds * 1e6
                print(f"due computation {priority:<6} {category:<10} {policy.slug:<9} {micros:7.1f} us")
        results: dict[bool, tuple[list[float], float]] = {}
        for enabled in (False, True, False, True):  # alternate: the second pair is the one reported
            for name in measured:
                for event_type, handler in HANDLERS[name]:
                    if enabled:
                        events.subscribe_in_transaction(event_type, handler)
                    else:
                        events.unsubscribe(handler)
            samples = []
            cpu = time.process_time()
            for i in range(args.tickets):
                feedback = FeedbackIn(description=f"支付失败，钱扣了 {i}", title=f"t{i}-{enabled}", user_id=f"u{i}",
                                      category="technical", subcategory="payment-failure")  # fmt: skip
                began = time.perf_counter()
                with db.write() as session:
                    intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings)
                samples.append((time.perf_counter() - began) * 1e6)
            results[enabled] = (samples, (time.process_time() - cpu) / args.tickets * 1e6)
        db.dispose()
    label = "+".join(measured)
    for enabled in (False, True):
        samples, cpu = results[enabled]
        print(
            f"create, {label} {'on ' if enabled else 'off'}  p50 {statistics.median(samples):8.0f} us  cpu {cpu:8.0f} us"
        )
    added = statistics.median(results[True][0]) - statistics.median(results[False][0])
    print(f"added to a create (p50) {added:6.0f} us; cpu {results[True][1] - results[False][1]:6.0f} us")


if __name__ == "__main__":
    main()
