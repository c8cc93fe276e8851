"""Benchmark: what triage adds to intake. Per ticket: the triage decision alone (default rules
and the three starter models), and a whole create with triage on and off (service level,
SQLite or PostgreSQL, no HTTP).

    .venv/bin/python bench/triage_intake.py --db sqlite --tickets 2000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import fresh_database

from huiying import wiring
from huiying.config import Settings
from huiying.db import Database
from huiying.demo.samples import SAMPLES
from huiying.kit import text as kit_text
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake
from huiying.tickets.schemas import FeedbackIn
from huiying.triage import service as triage
from huiying.triage.engine import Given


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms   n={len(ordered)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=2000)
    args = parser.parse_args()
    texts = [f"{s.description}（第{i}次）" for i in range(args.tickets // len(SAMPLES) + 1) for s in SAMPLES][
        : args.tickets
    ]
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, Path(tmp))
        db = Database(url)
        settings = Settings(database_url=url, secret_key="k" * 40)
        wiring.install_handlers()
        kit_text.warm_up()
        with db.read() as session:
            triage.assess(session, "warm up", given=Given())
            decide = []
            for text in texts:
                started = time.perf_counter()
                triage.assess(session, text, given=Given(channel="app"))
                decide.append((time.perf_counter() - started) * 1000)
        results = {}
        for enabled in (False, True):
            triage.configure(triage.TriageOptions(enabled=enabled))
            samples = []
            for i, text in enumerate(texts):
                feedback = FeedbackIn(description=text, title=f"t{i}-{enabled}", user_id=f"u{i}")
                started = time.perf_counter()
                with db.write() as session:
                    intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings)
                samples.append((time.perf_counter() - started) * 1000)
            results[enabled] = samples
        db.dispose()
    print(f"{args.db}: {args.tickets} realistic tickets (zh and en, 40-130 characters)")
    print(f"triage decision alone          {percentiles(decide)}")
    print(f"create, triage off             {percentiles(results[False])}")
    print(f"create, triage on              {percentiles(results[True])}")
    added = statistics.median(results[True]) - statistics.median(results[False])
    print(f"added to a create (p50)        {added:6.2f} ms")


if __name__ == "__main__":
    main()
