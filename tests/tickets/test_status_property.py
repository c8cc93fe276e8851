"""Random walks through the status flow against the real service and database."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from huiying.config import Settings
from huiying.db import Database
from huiying.errors import IllegalTransition
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake, lifecycle, service
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket, TicketEvent
from huiying.tickets.schemas import FeedbackIn

MOVES = st.lists(st.sampled_from([s for s in Status if s != Status.MERGED]), min_size=1, max_size=12)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=MOVES)
def test_every_accepted_move_is_recorded_and_every_refused_one_changes_nothing(
    db: Database, settings: Settings, moves: list[Status]
) -> None:
    with db.write() as session:
        ticket = intake.create_ticket(
            session,
            feedback=FeedbackIn(description="property test"),
            actor=SYSTEM,
            settings=settings,
        ).ticket
        ticket_id = ticket.id
    expected = Status.NEW
    accepted = 0
    for wanted in moves:
        try:
            with db.write() as session:
                ticket = session.get_one(Ticket, ticket_id)
                service.change_status(session, ticket, status=wanted, actor=SYSTEM)
        except IllegalTransition:
            assert not lifecycle.can_transition(expected, wanted)
        else:
            if wanted != expected:
                assert lifecycle.can_transition(expected, wanted)
                expected = wanted
                accepted += 1
        with db.read() as session:
            stored = session.get_one(Ticket, ticket_id)
            assert stored.status == expected.value
            assert (stored.resolved_at is not None) == (expected in (Status.RESOLVED, Status.CLOSED))
            changes = session.scalar(
                select(func.count())
                .select_from(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "status_changed")
            )
            assert changes == accepted
