"""VIPs and special groups first in the queues (repository `lane_first`): the lane, then the
rest, each newest first, and paging through gives every ticket exactly once whatever the page
size, through both readers (rows for the API, entities for the pages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake, repository
from huiying.tickets.repository import TicketQuery
from huiying.tickets.schemas import FeedbackIn
from huiying.web import queues

# (vip, special group) oldest first
KINDS = [(False, None), (True, None), (False, None), (False, "elderly"), (False, None), (True, "minor"), (False, None)]


def _seed(db: Database, settings: Settings) -> list[str]:
    numbers = []
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for i, (vip, group) in enumerate(KINDS):
        body = {"description": f"反馈 {i}", "channel": "web", "vip": vip, "special_group": group}
        with db.write() as session:
            made = intake.create_ticket(
                session,
                feedback=FeedbackIn.model_validate(body),
                actor=SYSTEM,
                settings=settings,
                received_at=start + timedelta(minutes=i),
            )
            numbers.append(made.ticket.number)
    return numbers


def _all(db: Database, query: TicketQuery, limit: int, *, rows: bool) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        with db.read() as session:
            if rows:
                page = repository.list_page(session, query, cursor=cursor, limit=limit)
                items, cursor = [r["number"] for r in page.rows], page.next_cursor
            else:
                tickets, cursor = repository.list_tickets(session, query, cursor=cursor, limit=limit)
                items = [t.number for t in tickets]
        seen.extend(items)
        if cursor is None:
            return seen
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_the_lane_comes_first_on_every_page_size(db: Database, settings: Settings, limit: int) -> None:
    numbers = _seed(db, settings)
    lane = [numbers[i] for i in (5, 3, 1)]
    rest = [numbers[i] for i in (6, 4, 2, 0)]
    query = TicketQuery(status=queues.ACTIVE, lane_first=True)
    assert _all(db, query, limit, rows=True) == lane + rest
    assert _all(db, query, limit, rows=False) == lane + rest
    oldest = TicketQuery(status=queues.ACTIVE, lane_first=True, sort="created")
    assert _all(db, oldest, limit, rows=True) == lane[::-1] + rest[::-1]
    # Without the flag (the API's lists) the order is the plain one.
    assert _all(db, TicketQuery(status=queues.ACTIVE), limit, rows=True) == numbers[::-1]
