"""The automatic mails of an email ticket: the acknowledgement of the user's mail (its number and
when to expect an answer) and a notice when the ticket is resolved, or closed without that.

Both are delivery rows sent by the delivery job after the commit (channels/delivery.py
`queue_notice`), once per ticket (a notice per resolution: reopened and resolved again is news).
Never for mail no person wrote: a ticket tagged as spam or as an auto-reply, bounce or list
mail by the inbound side gets nothing automatic — answering robots is how mail loops start.
And only for a ticket made from a mail (its Message-ID is the ticket's `source_ref`): a ticket
typed in under channel "email" by staff or an integration has no mail to acknowledge; its
replies still go out by email. Nor for an old mail (sent more than ACKNOWLEDGE_WITHIN before it
came in: a mailbox replayed, a migration from another helpdesk): its sender asked long ago and
has likely been answered; the timeline says why it was not acknowledged.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying import events
from huiying.channels import delivery
from huiying.channels.email.claims import message_id_key
from huiying.channels.email.models import MailMessage
from huiying.kit.actor import SYSTEM
from huiying.tickets import intake
from huiying.tickets import service as tickets
from huiying.tickets.enums import Channel
from huiying.tickets.models import Ticket

CHANNEL = Channel.EMAIL.value
# The inbound side's words for mail no person wrote (noise.Kind), as tags on a ticket.
NEVER_ANSWER_TAGS = frozenset({"spam", "auto_reply", "auto-reply", "bounce", "list"})
ACKNOWLEDGE_WITHIN = timedelta(days=2)


def wants_automatic_mail(ticket: Ticket) -> bool:
    """An email ticket made from a person's mail, with an address to write back to."""
    return (
        ticket.channel == CHANNEL
        and bool(ticket.source_ref)
        and "@" in (ticket.contact_masked or "")  # the masked address keeps its "@"
        and not NEVER_ANSWER_TAGS.intersection(ticket.tags)
    )


def _on_created(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.TicketCreated)
    if event.channel != CHANNEL:
        return
    ticket = intake.being_created(session, event.ticket_id)
    if ticket is None or not wants_automatic_mail(ticket):
        return
    # The claim of its mail (written before the ticket) knows when it was sent.
    sent_at = session.scalar(
        select(MailMessage.sent_at)
        .where(MailMessage.message_id == message_id_key(ticket.source_ref))
        .order_by(MailMessage.id)
        .limit(1)
    )
    if sent_at is not None and ticket.received_at - sent_at > ACKNOWLEDGE_WITHIN:
        data = {"reason": "old_mail", "sent_at": sent_at.isoformat(), "days": (ticket.received_at - sent_at).days}
        tickets.note_event(session, ticket, action="mail_not_acknowledged", data=data, actor=SYSTEM)
        return
    delivery.queue_notice(session, ticket_id=ticket.id, kind="received", key="received", channels=[CHANNEL])


def _on_status(session: Session, event: events.Event) -> None:
    assert isinstance(event, events.StatusChanged)
    delivery.queue_status_notice(session, event, channel=CHANNEL, wants=wants_automatic_mail)


def install() -> None:
    """Subscribe after the other intake handlers: routing may tag the ticket before this looks."""
    events.subscribe_in_transaction(events.TicketCreated, _on_created)
    events.subscribe_in_transaction(events.StatusChanged, _on_status)
