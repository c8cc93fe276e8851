"""Which tickets hear of their notices by mail (huiying.notices says when: the acknowledgement of
the user's mail with its number and expected times, taken up, resolved…).

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

from huiying.channels import registry
from huiying.channels.email.claims import message_id_key
from huiying.channels.email.models import MailMessage
from huiying.kit.actor import SYSTEM
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


def tells(session: Session, ticket: Ticket, kind: str) -> bool:
    """Whether the user hears of `kind` by mail (registry.register_notices). An old mail is not
    acknowledged: the timeline says why."""
    if not wants_automatic_mail(ticket):
        return False
    if kind != "received":
        return True
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
        return False
    return True


def install() -> None:
    registry.register_notices(CHANNEL, tells)
