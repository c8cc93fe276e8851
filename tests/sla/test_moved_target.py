"""A target that moves (the clock resumed after pending, a priority change) is a new promise: its
warned/breached claims are cleared so the sweep can warn and escalate on it again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import submit
from huiying.db import Database
from huiying.kit.actor import SYSTEM
from huiying.sla import sweep
from huiying.tickets import service
from huiying.tickets.models import Ticket

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def test_moving_a_due_time_clears_only_its_own_claims(app_client: TestClient, db: Database) -> None:
    number = submit(app_client)["number"]
    with db.write() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        ticket.status, ticket.first_response_due, ticket.resolution_due = "open", NOW, NOW
        ticket.response_warned_at = ticket.response_breached_at = NOW
        ticket.resolution_warned_at = ticket.resolution_breached_at = NOW
        session.flush()
        due = replace(service.DueTimes.of(ticket), first_response_due=NOW + timedelta(minutes=20))
        service.set_due_times(session, ticket, due=due, actor=SYSTEM, reason="resumed")
        assert (ticket.response_warned_at, ticket.response_breached_at) == (None, None)
        assert (ticket.resolution_warned_at, ticket.resolution_breached_at) == (NOW, NOW)
        ticket_id = ticket.id
    with db.read() as session:
        warned = set(sweep.find_due(session, sweep.BY_NAME["response_warning"], NOW))
    assert ticket_id in warned, "the moved first-response target is inside the warning window again"
