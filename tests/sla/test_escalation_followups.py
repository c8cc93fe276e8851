"""When nobody acts: a reopened ticket asks for a supervisor's review, a resolved one closes after
7 days with a last message, a pending one reminds the user (after 48 h, every 48 h, 3 times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import StaffLogin
from helpers import submit
from huiying import wiring
from huiying.config import Settings
from huiying.db import Database
from huiying.jobs.models import OutboxJob
from huiying.kit.clock import frozen
from huiying.sla import followups
from huiying.tickets.models import Message, Ticket

START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _wired(settings: Settings) -> None:
    wiring.configure(settings)


def _status(client: TestClient, admin: StaffLogin, number: str, status: str) -> None:
    answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=admin.headers)
    assert answer.status_code == 200, answer.text


def _ticket(db: Database, number: str) -> tuple[Ticket, list[str]]:
    with db.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        bodies = [
            m.body
            for m in session.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.kind == "reply"))
        ]
        session.expunge(ticket)
        return ticket, bodies


def test_a_reopened_ticket_is_tagged_for_review_and_supervisors_alerted(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = submit(app_client)["number"]
    _status(app_client, admin, number, "resolved")
    assert "supervisor_review" not in _ticket(db, number)[0].tags
    _status(app_client, admin, number, "open")
    ticket, _ = _ticket(db, number)
    assert "supervisor_review" in ticket.tags and ticket.reopen_count == 1
    timeline = app_client.get(f"/api/v1/tickets/{number}/timeline", headers=admin.headers).text
    assert "review_requested" in timeline
    with db.read() as session:
        kinds = [j.payload["kind"] for j in session.scalars(select(OutboxJob).where(OutboxJob.job == "staff_alert"))]
    assert kinds == ["reopened"]


def test_a_resolved_ticket_closes_after_seven_quiet_days_with_a_last_message(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = submit(app_client)["number"]
    with frozen(START):
        _status(app_client, admin, number, "resolved")
    with frozen(START + timedelta(days=7) - HOUR):
        assert followups.auto_close(db) == 0
    assert _ticket(db, number)[0].status == "resolved"
    with frozen(START + timedelta(days=7)):
        assert followups.auto_close(db) == 1
        assert followups.auto_close(db) == 0  # safe twice
    ticket, replies = _ticket(db, number)
    assert ticket.status == "closed"
    assert replies == [followups.CLOSE_TEXT["zh"]]


def test_a_pending_ticket_reminds_every_48_hours_at_most_three_times(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    number = submit(app_client)["number"]
    with frozen(START):
        _status(app_client, admin, number, "pending")
    sent = []
    for hours in (47, 48, 49, 96, 144, 192, 240):
        with frozen(START + hours * HOUR):
            sent.append(followups.remind_pending(db))
    assert sent == [0, 1, 0, 1, 1, 0, 0]
    ticket, replies = _ticket(db, number)
    assert ticket.status == "pending" and replies == [followups.REMIND_TEXT["zh"]] * 3


def test_the_ticket_page_escalates_with_a_reason(app_client: TestClient, db: Database) -> None:
    import re

    from conftest import PASSWORD
    from huiying.accounts import service as accounts
    from huiying.kit.roles import Role

    number = submit(app_client)["number"]
    with db.write() as session:
        accounts.create_user(session, email="web.agent@example.com", password=PASSWORD, role=Role.ADMIN, team_slugs=[])
    form = app_client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    login = app_client.post(
        "/login",
        data={"email": "web.agent@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text
    app_client.cookies.update(login.cookies)
    page = app_client.get(f"/tickets/{number}").text
    assert 'id="escalate-form"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    url = f"/tickets/{number}/escalate"
    blank = app_client.post(url, data={"reason": "  ", "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert blank.status_code == 303 and "error=" in blank.headers["location"]
    assert _ticket(db, number)[0].escalation_level == 0
    done = app_client.post(url, data={"reason": "需要二线支持", "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and "notice=saved" in done.headers["location"]
    assert _ticket(db, number)[0].escalation_level == 1
