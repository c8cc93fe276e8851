"""The one gate to a ticket: missing and outside-your-teams answer the same 404.

Asking for more than reading means the caller is about to change the ticket: the gate then
loads it locked for writing (repository.for_update), so no writer can forget to serialise.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import NotFound
from huiying.kit.actor import Actor
from huiying.tickets import repository
from huiying.tickets.models import Ticket
from huiying.tickets.numbering import normalise_number


def get_ticket_for(
    session: Session, actor: Actor, number: str, *, permission: Permission = Permission.TICKET_READ
) -> Ticket:
    """The ticket `number` if `actor` may use it so: 403 if the role may not do `permission` at
    all, 404 if the ticket is missing or belongs to a team the actor does not see. Any
    permission but reading locks the ticket until the transaction ends."""
    access.require(actor, permission)
    access.require(actor, Permission.TICKET_READ)
    ticket = repository.get_by_number(session, number, lock=permission != Permission.TICKET_READ)
    if not access.can_see_team(actor, ticket.team_id):
        raise NotFound(f"no ticket {number!r}", code="unknown_ticket")
    return ticket


def get_tickets_for(session: Session, actor: Actor, numbers: list[str], *, permission: Permission) -> list[Ticket]:
    """Several tickets for one change (e.g. a merge), in the order asked, each checked like
    `get_ticket_for`, all locked in one fixed order (see repository.lock_by_numbers)."""
    access.require(actor, permission)
    access.require(actor, Permission.TICKET_READ)
    found = repository.lock_by_numbers(session, numbers)
    tickets = []
    for number in numbers:
        ticket = found.get(normalise_number(number))
        if ticket is None or not access.can_see_team(actor, ticket.team_id):
            raise NotFound(f"no ticket {number!r}", code="unknown_ticket")
        tickets.append(ticket)
    return tickets
