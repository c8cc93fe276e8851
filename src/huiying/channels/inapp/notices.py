"""Which tickets hear of their notices by in-app push (huiying.notices says when): a ticket from
the app with the platform's user id, the address a push goes to. Only while a push endpoint is
configured: without one no app would ever hear it, and the replies' own in-app rows already say
"no in-app push configured" on the ticket.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from huiying.channels import registry
from huiying.channels.inapp.sender import CHANNEL
from huiying.tickets.enums import Channel
from huiying.tickets.models import Ticket

TICKET_CHANNEL = Channel.APP.value


def wants_push(ticket: Ticket) -> bool:
    """An app ticket with a platform user to push to, while pushes can be sent."""
    return ticket.channel == TICKET_CHANNEL and bool(ticket.user_id) and registry.sender_for(CHANNEL) is not None


def tells(session: Session, ticket: Ticket, kind: str) -> bool:
    """Whether the user hears of `kind` by push (registry.register_notices): every notice, for an app user."""
    return wants_push(ticket)


def install() -> None:
    registry.register_notices(CHANNEL, tells)
