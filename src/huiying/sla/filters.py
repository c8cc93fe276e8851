"""The `sla` filter of ticket lists (`due_soon`, `breached`), registered with tickets.repository."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, select, true, union

from huiying.errors import InvalidInput
from huiying.kit.clock import utcnow
from huiying.sla.clock import PAUSED_STATUSES
from huiying.tickets import repository
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket
from huiying.tickets.repository import TicketQuery


def sla_condition(sla: str, query: TicketQuery) -> ColumnElement[bool]:
    """Tickets whose first response or resolution is overdue (or due soon). Each half is its own
    subquery so each can use its (active, due) index; the clock stops while paused (pending)."""
    now = utcnow()
    response_open = and_(
        Ticket.active == true(), Ticket.first_responded_at.is_(None), Ticket.status == Status.NEW.value
    )
    running = and_(Ticket.active == true(), Ticket.status.not_in(sorted(PAUSED_STATUSES)))
    if sla == "breached":
        response = and_(response_open, Ticket.first_response_due < now)
        resolution = and_(running, Ticket.resolution_due < now)
    elif sla == "due_soon":
        soon = now + timedelta(minutes=query.due_soon_minutes)
        response = and_(response_open, Ticket.first_response_due >= now, Ticket.first_response_due < soon)
        resolution = and_(running, Ticket.resolution_due >= now, Ticket.resolution_due < soon)
    else:
        raise InvalidInput("sla must be due_soon or breached", code="invalid_filter")
    return Ticket.id.in_(union(select(Ticket.id).where(response), select(Ticket.id).where(resolution)))


def install() -> None:
    """Give ticket lists their `sla` filter (idempotent)."""
    repository.register_filter("sla", sla_condition)
