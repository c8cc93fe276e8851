"""The automatic pushes of an app ticket: the acknowledgement on creation (its number and when to
expect an answer) and a notice when it is resolved, or closed without that.

The same rules as email's (email/notices.py): delivery rows made and sent by the delivery job
after the commit (`delivery.queue_notice`), once per ticket (a notice per resolution: reopened
and resolved again is news). Only for a ticket from the app with the platform's user id, the
address a push goes to. Only while a push endpoint is configured: without one no app would ever
hear it, and the replies' own in-app rows already say "no in-app push configured" on the ticket.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from huiying import events
from huiying.channels import delivery, registry
from huiying.channels.inapp.sender import CHANNEL
from huiying.tickets import intake
from huiying.tickets.enums import Channel
from huiying.tickets.models import Ticket

TICKET_CHANNEL = Channel.APP.value


def wants_push(ticket: Ticket) -> bool:
    """An app ticket with a platform user to push to, while pushes can be sent."""
    return ticket.channel == TICKET_CHANNEL and bool(ticket.user_id) and registry.sender_for(CHANNEL) is not None


def _on_created(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketCreated)
    if event.channel != TICKET_CHANNEL:
        return
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is None or not wants_push(ticket):
        return
    delivery.queue_notice(session, ticket_id=ticket.id, kind="received", key="received", channels=[CHANNEL])


def _on_status(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.StatusChanged)
    delivery.queue_status_notice(session, event, channel=CHANNEL, wants=wants_push)


def install() -> None:
    """Subscribe after the other intake handlers: the SLA sets the due times the push says."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.StatusChanged, _on_status)
