"""The one gate to a ticket: missing and outside-your-teams answer the same 404."""

from __future__ import annotations

from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.accounts.actor import Actor
from huiying.errors import NotFound
from huiying.tickets import repository
from huiying.tickets.models import Ticket


def get_ticket_for(
    session: Session, actor: Actor, number: str, *, permission: Permission = Permission.TICKET_READ
) -> Ticket:
    """The ticket `number` if `actor` may use it so: 403 if the role may not do `permission` at
    all, 404 if the ticket is missing or belongs to a team the actor does not see."""
    access.require(actor, permission)
    access.require(actor, Permission.TICKET_READ)
    ticket = repository.get_by_number(session, number)
    if not access.can_see_team(actor, ticket.team_id):
        raise NotFound(f"no ticket {number!r}", code="unknown_ticket")
    return ticket
