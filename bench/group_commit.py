"""Benchmark: what one COMMIT costs next to a whole ticket create, and creates/s from N threads
at the service level (no HTTP), to judge SQLite's group commit (db.py).

    .venv/bin/python bench/group_commit.py --db sqlite --tickets 1000 --threads 8

Part 1 (one thread) times every SQL COMMIT (the dialect's do_commit, whatever the group does)
and every whole `db.write()` around `intake.create_ticket`. Part 2 runs the same creates from N
threads at once and reports creates/s, p50/p99 of one create, and the number of COMMITs the
database saw (fewer than creates = commits were shared).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import fresh_database

from huiying import wiring
from huiying.config import Settings
from huiying.db import Database
from huiying.demo.samples import SAMPLES
from huiying.kit import text as kit_text
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake
from huiying.tickets.schemas import FeedbackIn


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms   n={len(ordered)}"


class CommitTimer:
    """Wraps the dialect's do_commit: how many COMMITs ran and how long each took."""

    def __init__(self, db: Database) -> None:
        self.samples: list[float] = []
        self._lock = threading.Lock()
        dialect = db.engine.dialect
        original = dialect.do_commit

        def timed(dbapi_connection: Any) -> None:
            started = time.perf_counter()
            original(dbapi_connection)
            with self._lock:
                self.samples.append((time.perf_counter() - started) * 1000)

        dialect.do_commit = timed  # type: ignore[method-assign]


def create(db: Database, settings: Settings, text: str, tag: str) -> float:
    feedback = FeedbackIn(description=text, title=tag, user_id=tag)
    started = time.perf_counter()
    with db.write() as session:
        intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-delay", type=float, help="seconds a batch may stay open (SQLite group commit)")
    parser.add_argument("--max-writers", type=int, help="writes one COMMIT may hold (SQLite group commit)")
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
        timer = CommitTimer(db)
        group = getattr(db, "_group", None)
        if group is not None and args.max_delay is not None:
            group.max_delay = args.max_delay
        if group is not None and args.max_writers is not None:
            group.max_writers = args.max_writers

        serial_cpu = time.process_time()
        serial = [create(db, settings, text, f"s{i}") for i, text in enumerate(texts)]
        serial_cpu = time.process_time() - serial_cpu
        commits = list(timer.samples)
        timer.samples.clear()

        latencies: list[float] = []
        guard = threading.Lock()
        start = threading.Barrier(args.threads + 1)

        def worker(index: int) -> None:
            mine = texts[index :: args.threads]
            start.wait()
            done = [create(db, settings, text, f"c{index}-{i}") for i, text in enumerate(mine)]
            with guard:
                latencies.extend(done)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        start.wait()
        began, cpu = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.join()
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        db.dispose()
    print(f"{args.db}: {args.tickets} creates, service level, triage as configured (default off in bench)")
    print(f"one thread: whole write     {percentiles(serial)}   sum {sum(serial):8.0f} ms")
    print(f"one thread: COMMIT alone    {percentiles(commits)}   sum {sum(commits):8.0f} ms")
    print(f"COMMIT share of a write     {100 * sum(commits) / sum(serial):6.1f} %")
    print(f"one thread: process CPU     {1000 * serial_cpu / len(serial):7.2f} ms per create")
    print(f"{args.threads} threads: {len(latencies) / elapsed:7.1f} creates/s   {percentiles(latencies)}")
    print(f"{args.threads} threads: {len(timer.samples)} COMMITs for {len(latencies)} creates")
    print(f"{args.threads} threads: process CPU {1000 * cpu / len(latencies):7.2f} ms per create")


if __name__ == "__main__":
    main()
