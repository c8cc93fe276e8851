""" "Urgent → a senior agent" (SPEC.md §3) through the shipped routing rules: the urgent rule asks
for a senior first, and the team's whole pool when no senior can take the ticket."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from conftest import PASSWORD
from helpers import feedback
from huiying.accounts import service as accounts
from huiying.accounts.models import User
from huiying.config import Settings
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.kit.roles import Role
from huiying.tickets import intake
from huiying.tickets.models import Ticket, TicketEvent
from huiying.tickets.schemas import FeedbackIn

TEAM = "tech-server"  # where the default rules send a payment failure


def _create(db: Database, settings: Settings, priority: str) -> tuple[str | None, dict[str, object]]:
    with db.write() as session:
        body = FeedbackIn.model_validate(feedback(priority=priority))
        ticket = intake.create_ticket(session, feedback=body, actor=SYSTEM, settings=settings).ticket
        ticket_id = ticket.id
    with db.read() as session:
        stored = session.get_one(Ticket, ticket_id)
        chosen = session.scalars(
            select(TicketEvent.data).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action.like("assigned_%"))
        ).first()
        return (stored.assignee.email if stored.assignee else None), dict(chosen or {})


def test_urgent_work_goes_to_a_senior_first_then_to_anyone(
    app_client: TestClient, db: Database, settings: Settings
) -> None:
    with db.write() as session:
        for email, role in (("agent@example.com", Role.AGENT), ("senior@example.com", Role.SENIOR)):
            accounts.create_user(session, email=email, password=PASSWORD, role=role, team_slugs=[TEAM])
    # The team hands out nothing by itself: only the urgent rule's least-loaded mode assigns.
    assert _create(db, settings, "medium")[0] is None
    assignee, data = _create(db, settings, "urgent")
    assert (assignee, data.get("role"), data.get("role_fallback")) == ("senior@example.com", "senior", None)

    with db.write() as session:
        session.execute(update(User).where(User.email == "senior@example.com").values(availability="away"))
    assignee, data = _create(db, settings, "urgent")
    assert (assignee, data.get("role_fallback")) == ("agent@example.com", True)
