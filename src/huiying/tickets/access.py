"""The one gate to a ticket: missing and not-yours answer the same 404."""

from __future__ import annotations

from sqlalchemy.orm import Session

from huiying.accounts.actor import Actor
from huiying.errors import NotFound
from huiying.tickets import repository
from huiying.tickets.models import Ticket


def can_see(actor: Actor, ticket: Ticket) -> bool:
    """Whether `actor` may see `ticket` at all. (Team scoping arrives with roles.)"""
    return actor.is_staff


def get_ticket_for(session: Session, actor: Actor, number: str) -> Ticket:
    """The ticket `number` if `actor` may see it; NotFound otherwise, whatever the reason."""
    ticket = repository.get_by_number(session, number)
    if not can_see(actor, ticket):
        raise NotFound(f"no ticket {number!r}", code="unknown_ticket")
    return ticket
