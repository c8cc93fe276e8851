"""The in-app channel's sender: one signed JSON POST to the platform's push endpoint per delivery.

It plugs into the delivery job (channels/delivery.py) like email: registered for "inapp" when
HUIYING_INAPP_WEBHOOK_URL is set (without it the job suppresses the delivery: no_inapp_push).
`prepare` reads the ticket while the delivery is claimed (language, due times, the portal link)
and words the push (texts.py); `deliver` posts it outside any transaction. The push's `id` is
made from the delivery's id, so every retry (and a run after a crash between sending and
recording) repeats the same id and the platform can drop the repeat (CONTRACT.md); a resend by
staff gets a new one. The post, its signature and what its answers mean: channels/webhook.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from huiying.channels import registry, webhook
from huiying.channels.base import Delivered, DeliveryFailed, Outgoing, extended
from huiying.channels.inapp import texts
from huiying.channels.models import MessageDelivery
from huiying.notices import facts
from huiying.portal.links import portal_url
from huiying.tickets.models import Ticket

CHANNEL = "inapp"


@dataclass(frozen=True)
class Push:
    """The JSON body of one push, field for field (CONTRACT.md)."""

    id: str
    user_id: str | None
    number: str
    kind: str
    text: str
    url: str


@dataclass(frozen=True)
class InappOutgoing(Outgoing):
    """An Outgoing with the whole push in plain values, made in the claiming transaction."""

    push: Push | None = None


@dataclass
class InappSender:
    """Posts one delivery's push (one request per push: deliveries come one by one)."""

    url: str
    secret: str
    base_url: str
    secret_key: str
    timezone: str
    name: str = CHANNEL

    def prepare(self, session: Session, delivery: MessageDelivery, outgoing: Outgoing) -> Outgoing:
        """The push's words and link, read while the delivery is claimed."""
        ticket = session.get_one(Ticket, delivery.ticket_id)
        if delivery.kind == "reply":
            words = texts.reply_text(ticket.number, outgoing.text, language=ticket.language)
        else:
            words = facts.short_text(session, ticket, delivery, timezone=self.timezone)
        push = Push(
            id=webhook.post_id(delivery.id, delivery.resent),
            user_id=ticket.user_id,
            number=ticket.number,
            kind=delivery.kind,
            text=words,
            url=portal_url(self.base_url, self.secret_key, ticket.number),
        )
        return extended(outgoing, InappOutgoing, push=push)

    def deliver(self, outgoing: Outgoing) -> Delivered:
        push = outgoing.push if isinstance(outgoing, InappOutgoing) else None
        if push is None:
            raise DeliveryFailed("the push was not prepared (in-app sender registered without prepare)")
        if not push.user_id:
            raise DeliveryFailed("the ticket has no platform user id to push to", permanent=True)
        if not push.text:
            raise DeliveryFailed(f"no in-app text for {push.kind!r}", permanent=True)
        webhook.post_signed(self.url, self.secret, asdict(push), what="in-app push endpoint")
        return Delivered(external_id=push.id)


def configure(*, url: str | None, secret: str | None, base_url: str, secret_key: str, timezone: str) -> None:
    """Register the sender for "inapp" when a push endpoint is configured; otherwise none, and
    the delivery job suppresses in-app deliveries with the reason (no in-app push configured)."""
    if not url or not secret:  # Settings refuses a URL without a secret; never push unsigned
        registry.register(CHANNEL, None)
        return
    sender = InappSender(url=url, secret=secret, base_url=base_url, secret_key=secret_key, timezone=timezone)
    registry.register(CHANNEL, sender, prepare=sender.prepare)
