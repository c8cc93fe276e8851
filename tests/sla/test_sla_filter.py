"""GET /api/v1/tickets?sla=breached|due_soon: overdue and due-soon tickets, the clock stopped
while pending. The rule lives in the sla package and reaches the ticket list by registration."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from conftest import StaffLogin
from helpers import submit
from huiying.db import Database
from huiying.kit.clock import utcnow
from huiying.tickets.models import Ticket


def _numbers(client: TestClient, admin: StaffLogin, sla: str) -> set[str]:
    answer = client.get("/api/v1/tickets", params={"sla": sla, "limit": 100}, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    return {item["number"] for item in answer.json()["items"]}


def _due(db: Database, number: str, *, resolution_in: timedelta, response_in: timedelta | None = None) -> None:
    # Test set-up: place the due times where the case needs them.
    with db.write() as session:
        ticket = session.query(Ticket).filter_by(number=number).one()
        ticket.resolution_due = utcnow() + resolution_in
        ticket.first_response_due = None if response_in is None else utcnow() + response_in


def _status(client: TestClient, admin: StaffLogin, number: str, status: str) -> None:
    answer = client.post(f"/api/v1/tickets/{number}/status", json={"status": status}, headers=admin.headers)
    assert answer.status_code == 200, answer.text


def test_breached_and_due_soon_leave_pending_tickets_out(
    app_client: TestClient, admin: StaffLogin, db: Database
) -> None:
    overdue, soon, later, paused, unanswered = (submit(app_client)["number"] for _ in range(5))
    for number in (overdue, soon, later, paused):
        _status(app_client, admin, number, "open")
    _due(db, overdue, resolution_in=timedelta(hours=-1))
    _due(db, soon, resolution_in=timedelta(minutes=10))
    _due(db, later, resolution_in=timedelta(days=2))
    _due(db, paused, resolution_in=timedelta(hours=-1))
    _status(app_client, admin, paused, "pending")
    # Still new and unanswered: the first-response target counts.
    _due(db, unanswered, resolution_in=timedelta(days=2), response_in=timedelta(minutes=-5))

    assert _numbers(app_client, admin, "breached") == {overdue, unanswered}
    assert _numbers(app_client, admin, "due_soon") == {soon}


def test_an_unknown_sla_filter_is_refused(app_client: TestClient, admin: StaffLogin) -> None:
    answer = app_client.get("/api/v1/tickets", params={"sla": "whenever"}, headers=admin.headers)
    assert answer.status_code == 422
    assert "error" in answer.json()
