""" "最新" / "最早" order tickets by the time they were received, not by row id: imported mail and
the demo data arrive out of order (issue 16, item 18). Paging with the cursor keeps that order."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, StaffLogin
from huiying.accounts import service as accounts
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.tickets import intake
from huiying.tickets.schemas import FeedbackIn

BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# Minutes after BASE, in the order the rows are written (ids 1..7); two share a moment.
OFFSETS = [300, 10, 600, 10, 45, 0, 900]


@pytest.fixture
def received(db: Database, settings: Settings) -> dict[str, datetime]:
    """Seven tickets whose received times are not in id order: {number: received_at}."""
    times: dict[str, datetime] = {}
    with db.write() as session:
        for index, minutes in enumerate(OFFSETS):
            at = BASE + timedelta(minutes=minutes)
            feedback = FeedbackIn(description=f"第{index}条反馈 message {index}")
            ticket = intake.create_ticket(session, feedback=feedback, actor=SYSTEM, settings=settings, received_at=at)
            times[ticket.ticket.number] = at
    return times


def _expected(received: dict[str, datetime], newest_first: bool) -> list[str]:
    ids = {number: position for position, number in enumerate(received)}  # creation order = id order
    key = lambda n: (received[n], ids[n])  # noqa: E731
    return sorted(received, key=key, reverse=newest_first)


def _all_pages(client: TestClient, admin: StaffLogin, sort: str) -> list[str]:
    numbers: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params = {"sort": sort, "limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/v1/tickets", params=params, headers=admin.headers)
        assert answer.status_code == 200, answer.text
        numbers += [t["number"] for t in answer.json()["items"]]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return numbers
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize(("sort", "newest_first"), [("-created", True), ("created", False)])
def test_the_api_orders_by_time_received_across_pages(
    app_client: TestClient, admin: StaffLogin, received: dict[str, datetime], sort: str, newest_first: bool
) -> None:
    assert _all_pages(app_client, admin, sort) == _expected(received, newest_first)


def test_the_workspace_list_shows_the_newest_received_first(
    app_client: TestClient, db: Database, received: dict[str, datetime]
) -> None:
    with db.write() as session:
        accounts.create_user(session, email="lead@example.com", password=PASSWORD, role=Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', app_client.get("/login").text)
    assert token
    app_client.post(
        "/login",
        data={"email": "lead@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    page = app_client.get("/tickets", params={"queue": "all", "sort": "-created"})
    assert page.status_code == 200
    rows = re.findall(r'<tr class="row" data-number="([^"]+)"', page.text)
    assert rows == _expected(received, newest_first=True)
