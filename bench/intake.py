"""Benchmark: tickets created per second through POST /api/v1/feedback, and the latency of
the new-ticket queue (GET /api/v1/tickets?status=new&limit=50), with N tickets already stored.

    .venv/bin/python bench/intake.py --db sqlite --tickets 100000
    .venv/bin/python bench/intake.py --db postgresql --tickets 100000

Measured like PERFORMANCE.md: wrk, 1 thread, 16 connections, median of 3 runs of 15 s, one
server process, client and server on the same two cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import fresh_database, median_of, server, token, wrk
from seed import seed_tickets
from sqlalchemy import event, func, select

from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake
from huiying.tickets.models import Ticket
from huiying.tickets.schemas import FeedbackIn

DESCRIPTION = (
    "充值会员的时候提示支付失败，但是微信已经扣款68元，会员也没有开通，订单号在截图里，请尽快退款或者开通。"
    "我已经重启过手机也重新登录过账号，问题还是存在。之前也遇到过一次类似的情况，当时是过了两天才到账的。"
    "这次着急使用会员功能，希望客服能尽快帮忙处理，谢谢。我的手机型号是华为Mate 60，系统是HarmonyOS 4.2，"
    "App版本是5.2.0，网络是家里的WiFi，信号很好。支付时间大概是晚上九点左右，支付方式是微信支付。"
)

CREATE_SCRIPT = (
    """
counter = 0
math.randomseed(os.time())
local run = math.random(1, 1000000000)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format('{"channel":"app","user_id":"u%%d","contact":"13812345678","title":"支付失败 %%d",'
    .. '"description":"%s","category":"technical","subcategory":"payment-failure",'
    .. '"device":{"os":"HarmonyOS 4.2","model":"Huawei Mate 60"},"app_version":"5.2.0","city":"杭州",'
    .. '"links":{"order_no":"DD2026112300%%d"}}', counter, counter, counter)
  wrk.headers["Idempotency-Key"] = string.format("bench-%%d-%%d", run, counter)
  return wrk.format(nil, "/api/v1/feedback", nil, body)
end
"""
    % DESCRIPTION
)


def statements_per_create(url: str, workdir: Path) -> int:
    """How many SQL statements one intake issues (the cost driver PERFORMANCE.md points at)."""
    db = Database(url)
    settings = Settings(database_url=url, data_dir=workdir / "var", secret_key="k" * 40)
    count = 0

    def counter(*_: object) -> None:
        nonlocal count
        count += 1

    with db.write() as session:  # warm the taxonomy and connection first
        intake.create_ticket(session, feedback=FeedbackIn(description="warm up"), actor=SYSTEM, settings=settings)
    event.listen(db.engine, "before_cursor_execute", counter)
    with db.write() as session:
        intake.create_ticket(
            session,
            feedback=FeedbackIn(description=DESCRIPTION, category="technical"),
            actor=SYSTEM,
            settings=settings,
        )
    event.remove(db.engine, "before_cursor_execute", counter)
    db.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets stored before measuring")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="huiying-bench-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(args.db, workdir)
        started = time.perf_counter()
        seed_tickets(Database(url), Settings(database_url=url), args.tickets)
        print(f"seeded {args.tickets} tickets in {time.perf_counter() - started:.1f}s ({args.db})")
        print(f"SQL statements per create (incl. BEGIN/COMMIT not counted): {statements_per_create(url, workdir)}")

        with server(url, workdir) as base:
            headers = {"Authorization": f"Bearer {token(base)}"}
            creates = [
                wrk(
                    f"{base}/api/v1/feedback",
                    script=CREATE_SCRIPT,
                    duration=args.duration,
                    connections=args.connections,
                )
                for _ in range(args.runs)
            ]
            lists = [
                wrk(
                    f"{base}/api/v1/tickets?status=new&limit=50",
                    headers=headers,
                    duration=args.duration,
                    connections=args.connections,
                )
                for _ in range(args.runs)
            ]
            # The same with one client at a time: the latency an agent sees when the server is not saturated.
            single_create = wrk(f"{base}/api/v1/feedback", script=CREATE_SCRIPT, duration=args.duration, connections=1)
            single_list = wrk(
                f"{base}/api/v1/tickets?status=new&limit=50", headers=headers, duration=args.duration, connections=1
            )
        db = Database(url)
        with db.read() as session:
            stored = session.scalar(select(func.count()).select_from(Ticket))
        db.dispose()

    create, listing = median_of(creates), median_of(lists)
    print(f"\n{args.db}, {args.tickets} tickets stored beforehand, {stored} at the end")
    print(f"{'what':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    print(
        f"{'POST /api/v1/feedback':<44} {create.requests_per_second:>8.0f} {create.p50_ms:>8.1f} {create.p99_ms:>8.1f} {create.errors:>7}"
    )
    print(
        f"{'GET /api/v1/tickets?status=new&limit=50':<44} {listing.requests_per_second:>8.0f} {listing.p50_ms:>8.1f} {listing.p99_ms:>8.1f} {listing.errors:>7}"
    )
    for label, result in (("POST, 1 connection", single_create), ("GET list, 1 connection", single_list)):
        print(
            f"{label:<44} {result.requests_per_second:>8.0f} {result.p50_ms:>8.1f} {result.p99_ms:>8.1f} {result.errors:>7}"
        )


if __name__ == "__main__":
    main()
