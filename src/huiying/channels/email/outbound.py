"""The email channel's sender: public replies, acknowledgements and status notices by SMTP.

It plugs into the delivery job (channels/delivery.py) like any channel: registered for "email"
when HUIYING_SMTP_URL is set (without it the job suppresses the delivery and says why, plan.py).
While the job claims a delivery, `prepare` gathers what the mail says from the ticket (language,
due times, the user's last mail to answer) and gives the delivery its Message-ID, kept across
retries; `deliver` then composes (compose.py) and sends outside any transaction. A failure is
raised as DeliveryFailed: the job records it on the delivery and retries with its backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying import smtp
from huiying.channels import registry
from huiying.channels.base import Delivered, DeliveryFailed, Outgoing, extended
from huiying.channels.email import compose
from huiying.channels.models import MessageDelivery
from huiying.kit.clock import utcnow
from huiying.notices import facts as notice_facts
from huiying.portal.links import portal_url
from huiying.tickets.enums import Channel, MessageKind
from huiying.tickets.models import Message, Ticket

CHANNEL = Channel.EMAIL.value


@dataclass(frozen=True)
class EmailOutgoing(Outgoing):
    """An Outgoing with the whole mail in plain values, made in the claiming transaction."""

    letter: compose.Letter | None = None


@dataclass
class EmailSender:
    """Sends one delivery's mail over SMTP (one connection per mail: deliveries come one by one)."""

    server: smtp.SmtpConfig
    mail_from: str
    base_url: str
    secret_key: str
    timezone: str
    name: str = CHANNEL

    def prepare(self, session: Session, delivery: MessageDelivery, outgoing: Outgoing) -> Outgoing:
        """The mail's words and thread, read while the delivery is claimed. Its Message-ID is
        taken on the first attempt and stored, so every retry sends the same mail (a receiver
        can drop a repeat) and a bounce or answer finds the delivery even before it is `sent`."""
        ticket = session.get_one(Ticket, delivery.ticket_id)
        if delivery.mail_message_id is None:
            delivery.mail_message_id = compose.new_message_id(self.mail_from, key=f"hy{delivery.id}")
        in_reply_to, references = thread_of(session, ticket, delivery)
        is_reply = delivery.kind == MessageKind.REPLY.value
        letter = compose.Letter(
            kind=delivery.kind,
            number=ticket.number,
            to=outgoing.contact or "",
            mail_from=self.mail_from,
            message_id=delivery.mail_message_id,
            now=utcnow(),
            title=ticket.title,
            language=ticket.language,
            user_name=ticket.user_name,
            body=outgoing.text,
            in_reply_to=in_reply_to,
            references=references,
            first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
            portal_url=portal_url(self.base_url, self.secret_key, ticket.number),
            timezone=self.timezone,
            compensations=notice_facts.compensations_for(session, ticket, delivery.kind),
            detail=dict(delivery.detail or {}),
            template=None if is_reply else notice_facts.template_for(session, ticket, delivery.kind),
        )
        return extended(outgoing, EmailOutgoing, letter=letter)

    def deliver(self, outgoing: Outgoing) -> Delivered:
        letter = outgoing.letter if isinstance(outgoing, EmailOutgoing) else None
        if letter is None:
            raise DeliveryFailed("the mail was not prepared (email sender registered without prepare)")
        if letter.kind not in compose.KINDS:
            raise DeliveryFailed(f"no email template for {letter.kind!r}")
        if "@" not in letter.to:
            raise DeliveryFailed("the ticket has no email address to send to")
        message = compose.build(letter)
        sender = compose.address_of(self.mail_from)[1]
        (failure,) = smtp.send(self.server, [smtp.Envelope(message, sender, (letter.to,))])
        if failure is not None:
            raise DeliveryFailed(failure.text, permanent=failure.permanent)
        return Delivered(external_id=letter.message_id)


def thread_of(session: Session, ticket: Ticket, delivery: MessageDelivery) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) of a mail on `ticket`: it answers the user's last mail; the
    thread is the user's mails (the ticket's own Message-ID, then their follow-ups') and ours
    sent before this one, oldest first. Ids without <>, as the inbound side stores them."""
    theirs = session.execute(
        select(Message.created_at, Message.source_ref)
        .where(
            Message.ticket_id == ticket.id,
            Message.kind == MessageKind.USER.value,
            Message.channel == CHANNEL,
            Message.source_ref.is_not(None),
        )
        .order_by(Message.id)
    ).all()
    ours = session.execute(
        select(MessageDelivery.sent_at, MessageDelivery.mail_message_id).where(
            MessageDelivery.ticket_id == ticket.id,
            MessageDelivery.channel == CHANNEL,
            MessageDelivery.status == "sent",
            MessageDelivery.id != delivery.id,
            MessageDelivery.mail_message_id.is_not(None),
        )
    ).all()
    first = [(ticket.received_at, ticket.source_ref)] if ticket.source_ref else []
    # Sorted by time, stable: at the same moment the ticket's own mail comes before follow-ups.
    user_mails = sorted([*first, *((at, ref) for at, ref in theirs)], key=lambda pair: pair[0])
    thread = sorted([*user_mails, *((at, ref) for at, ref in ours if at is not None)], key=lambda pair: pair[0])
    last = user_mails[-1][1] if user_mails else None
    return (_bare(last) if last else None), tuple(_bare(ref) for _, ref in thread if ref)


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def configure(*, smtp_url: str | None, mail_from: str, base_url: str, secret_key: str, timezone: str) -> None:
    """Register the sender for "email" when an SMTP server is configured; otherwise none, and
    the delivery job suppresses email deliveries with the reason (no email sender configured)."""
    if not smtp_url:
        registry.register(CHANNEL, None)
        return
    sender = EmailSender(
        server=smtp.parse_smtp_url(smtp_url),
        mail_from=mail_from,
        base_url=base_url,
        secret_key=secret_key,
        timezone=timezone,
    )
    registry.register(CHANNEL, sender, prepare=sender.prepare)
