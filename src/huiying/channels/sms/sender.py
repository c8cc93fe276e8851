"""The SMS channel's sender: one signed JSON POST to the platform's SMS gateway per notice.

A phone user (a hotline caller, or feedback left with a mobile number and nothing else to reach
them by) hears of their ticket by text: received with its number, taken up, delayed, resolved…
(huiying.notices says when). Replies stay the call-back's (channels/plan.py): an agent's answer
to a caller is said on the phone, not cut to an SMS. Registered when HUIYING_SMS_GATEWAY_URL is
set; without it no texts, and nothing is queued for them. The gateway gets
`{id, phone, number, kind, text}` signed like an in-app push (channels/webhook.py); `id` is
stable per delivery, so it can drop a repeat (a retry, a run after a crash), new per resend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from huiying.channels import registry, webhook
from huiying.channels.base import Delivered, DeliveryFailed, Outgoing, extended
from huiying.channels.models import MessageDelivery
from huiying.kit.masking import mobile_number
from huiying.notices import facts
from huiying.tickets.enums import Channel
from huiying.tickets.models import Ticket

CHANNEL = "sms"
# Tickets whose user may be reached by text: by phone, or by a form or staff with a mobile number.
# An app user hears by push and a mail's sender by mail instead.
TICKET_CHANNELS = frozenset({Channel.HOTLINE.value, Channel.WEB.value, Channel.API.value, Channel.OFFLINE.value})


@dataclass(frozen=True)
class Text:
    """The JSON body of one SMS, field for field (CONTRACT.md)."""

    id: str
    phone: str
    number: str
    kind: str
    text: str


@dataclass(frozen=True)
class SmsOutgoing(Outgoing):
    sms: Text | None = None


def wants_sms(ticket: Ticket) -> bool:
    """A ticket of a phone user with a mainland mobile number, while texts can be sent."""
    if ticket.channel not in TICKET_CHANNELS or registry.sender_for(CHANNEL) is None:
        return False
    if "@" in (ticket.contact_masked or "") or not ticket.contact_masked:
        return False
    return mobile_number(ticket.contact_plain()) is not None


def tells(session: Session, ticket: Ticket, kind: str) -> bool:
    return wants_sms(ticket)


@dataclass
class SmsSender:
    url: str
    secret: str
    timezone: str
    name: str = CHANNEL

    def prepare(self, session: Session, delivery: MessageDelivery, outgoing: Outgoing) -> Outgoing:
        ticket = session.get_one(Ticket, delivery.ticket_id)
        text = Text(
            id=webhook.post_id(delivery.id, delivery.resent),
            phone=mobile_number(outgoing.contact) or "",
            number=ticket.number,
            kind=delivery.kind,
            text=facts.short_text(session, ticket, delivery, timezone=self.timezone),
        )
        return extended(outgoing, SmsOutgoing, sms=text)

    def deliver(self, outgoing: Outgoing) -> Delivered:
        sms = outgoing.sms if isinstance(outgoing, SmsOutgoing) else None
        if sms is None:
            raise DeliveryFailed("the text was not prepared (SMS sender registered without prepare)")
        if not sms.phone:
            raise DeliveryFailed("the ticket has no mobile number to text", permanent=True)
        if not sms.text:
            raise DeliveryFailed(f"no SMS text for {sms.kind!r}", permanent=True)
        webhook.post_signed(self.url, self.secret, asdict(sms), what="SMS gateway")
        return Delivered(external_id=sms.id)


def configure(*, url: str | None, secret: str | None, timezone: str = "Asia/Shanghai") -> None:
    """Register the sender for "sms" when a gateway is configured (Settings refuses one unsigned)."""
    if not url or not secret:
        registry.register(CHANNEL, None)
        return
    sender = SmsSender(url=url, secret=secret, timezone=timezone)
    registry.register(CHANNEL, sender, prepare=sender.prepare)


def install() -> None:
    registry.register_notices(CHANNEL, tells)
