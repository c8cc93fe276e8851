"""Benchmark: server time of the agent's queue page and of a ticket page with N tickets stored.

    .venv/bin/python bench/pages.py --db sqlite --tickets 100000
    .venv/bin/python bench/pages.py --db postgresql --tickets 100000

Server time is what the app reports in its Server-Timing header (request in to first byte out),
over sequential requests from one logged-in agent; p50 / p95 / p99 of --requests requests.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from common import PASSWORD, fresh_database, server
from seed import seed_tickets
from sqlalchemy import select

from huiying.config import Settings
from huiying.db import Database
from huiying.tickets.models import Ticket


def login(client: httpx.Client) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code in (200, 303), answer.status_code


def server_times(client: httpx.Client, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        timing = answer.headers["server-timing"]
        times.append(float(timing.split("dur=")[1]))
    return times


def describe(label: str, times: list[float]) -> str:
    ordered = sorted(times)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return f"{label:<34} {statistics.median(times):>8.1f} {pct(0.95):>8.1f} {pct(0.99):>8.1f} {len(times):>6}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huiying-bench-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        started = time.perf_counter()
        seed_tickets(Database(url), Settings(database_url=url), args.tickets)
        print(f"seeded {args.tickets} tickets in {time.perf_counter() - started:.1f}s ({args.db})")
        db = Database(url)
        with db.read() as session:
            numbers = list(session.scalars(select(Ticket.number).order_by(Ticket.id.desc()).limit(5000)))
        db.dispose()
        rng = random.Random(1)
        with server(url, workdir) as base, httpx.Client(base_url=base, timeout=30) as client:
            login(client)
            server_times(client, ["/tickets"] * 10 + [f"/tickets/{numbers[0]}"] * 10)  # warm up
            queue = server_times(client, ["/tickets?queue=open"] * args.requests)
            search = server_times(client, ["/tickets?queue=all&q=支付失败"] * (args.requests // 3))
            ticket = server_times(client, [f"/tickets/{rng.choice(numbers)}" for _ in range(args.requests)])
    print(f"\n{args.db}, {args.tickets} tickets stored; server time in ms")
    print(f"{'page':<34} {'p50':>8} {'p95':>8} {'p99':>8} {'n':>6}")
    print(describe("queue page (all open, 50 rows)", queue))
    print(describe("queue page, search 支付失败", search))
    print(describe("ticket page", ticket))


if __name__ == "__main__":
    main()
