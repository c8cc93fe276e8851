"""Benchmark: what the SLA clock adds to intake. Microseconds per due computation (policy match
plus both targets on the standard working calendar and on 24×7), and a whole create with the SLA
handlers subscribed and unsubscribed (service level, SQLite or PostgreSQL, no HTTP).

    .venv/bin/python bench/sla_cost.py --db sqlite --tickets 1000
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
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.sla import due
from huiying.sla import service as sla
from huiying.sla.policies import TicketFacts, choose
from huiying.tickets import intake
from huiying.tickets.schemas import FeedbackIn

HANDLERS = (
    (events.TicketCreated, sla._on_created),
    (events.TicketChanged, sla._on_changed),
    (events.StatusChanged, sla._on_status),
    (events.MessageAdded, sla._on_message),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, Path(tmp))
        db = Database(url)
        settings = Settings(database_url=url, secret_key="k" * 40)
        wiring.install_handlers()
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
            for event_type, handler in HANDLERS:
                if enabled:
                    events.subscribe_in_transaction(event_type, handler)
                else:
                    events.unsubscribe(handler)
            samples = []
            cpu = time.process_time()
            for i in range(args.tickets):
                feedback = FeedbackIn(description=f"支付失败，钱扣了 {i}", title=f"t{i}-{enabled}", user_id=f"u{i}",
                                      category="technical")  # fmt: skip
                began = time.perf_counter()
                with db.write() as session:
                    intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings)
                samples.append((time.perf_counter() - began) * 1e6)
            results[enabled] = (samples, (time.process_time() - cpu) / args.tickets * 1e6)
        db.dispose()
    for enabled in (False, True):
        samples, cpu = results[enabled]
        print(f"create, SLA {'on ' if enabled else 'off'}  p50 {statistics.median(samples):8.0f} us  cpu {cpu:8.0f} us")
    added = statistics.median(results[True][0]) - statistics.median(results[False][0])
    print(f"added to a create (p50) {added:6.0f} us; cpu {results[True][1] - results[False][1]:6.0f} us")


if __name__ == "__main__":
    main()
