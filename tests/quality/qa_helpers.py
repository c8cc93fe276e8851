"""What the QA tests share: staff of each kind, and tickets handled by an agent at a fixed time."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import PASSWORD, StaffLogin, login
from helpers import feedback, submit
from huiying.accounts.models import User
from huiying.db import Database
from huiying.kit.clock import frozen
from huiying.kit.roles import Role
from huiying.quality.models import QASample
from huiying.tickets.models import Ticket

# In the past: the tests' logins are real-time tokens, which a clock frozen after they expire refuses.
WEEK = "2026-W10"  # Monday 2 March to Sunday 8 March 2026, Shanghai time
IN_WEEK = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
NEXT_WEEK = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # in 2026-W11
MONDAY_AFTER = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)  # 2026-W11's Monday: "last week" is WEEK
THIS_WEEK = "2026-W11"
TEAM = "tech-support"


def staff(client: TestClient, db: Database, role: Role, name: str) -> StaffLogin:
    return login(client, db, email=f"{name}@example.com", role=role, teams=[TEAM])


def user_id(db: Database, who: StaffLogin) -> int:
    with db.read() as session:
        return int(session.scalars(select(User.id).where(User.email == who.email)).one())


def handled(
    client: TestClient,
    admin: StaffLogin,
    agent: StaffLogin,
    *,
    at: datetime = IN_WEEK,
    status: str = "resolved",
    **overrides: Any,
) -> str:
    """A ticket of `agent`, resolved (or left in `status`) at `at`."""
    with frozen(at):
        body = feedback(description=f"QA {uuid.uuid4()}", **overrides)
        number = str(submit(client, body, **admin.headers)["number"])
        patched = client.patch(
            f"/api/v1/tickets/{number}", json={"team": TEAM, "assignee": agent.email}, headers=admin.headers
        )
        assert patched.status_code == 200, patched.text
        if status != "open":
            moved = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=admin.headers)
            assert moved.status_code == 200, moved.text
    return number


def sampled(db: Database, week: str = WEEK) -> dict[str, str | None]:
    """The week's samples: ticket number → the reviewer's email."""
    with db.read() as session:
        rows = session.execute(
            select(Ticket.number, User.email)
            .join(QASample, QASample.ticket_id == Ticket.id)
            .outerjoin(User, User.id == QASample.reviewer_id)
            .where(QASample.week == week)
        )
        return {number: email for number, email in rows}


def browser_of(client: TestClient, who: StaffLogin) -> tuple[TestClient, str]:
    """A logged-in browser of `who` (password login, cookies) and its CSRF token."""
    browser = TestClient(client.app)
    form = browser.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = browser.post("/login", data={"email": who.email, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 200, answer.text
    csrf = re.search(r'data-csrf="([^"]+)"', answer.text)
    assert csrf
    return browser, csrf.group(1)
