"""The in-app channel's sender: one signed JSON POST to the platform's push endpoint per delivery.

It plugs into the delivery job (channels/delivery.py) like email: registered for "inapp" when
HUIYING_INAPP_WEBHOOK_URL is set (without it the job suppresses the delivery: no_inapp_push).
`prepare` reads the ticket while the delivery is claimed (language, due times, the portal link)
and words the push (texts.py); `deliver` posts it outside any transaction. The push's `id` is
made from the delivery's id, so every retry (and a run after a crash between sending and
recording) repeats the same id and the platform can drop the repeat (CONTRACT.md).

Answers: 2xx is delivered; 408, 429 and 5xx, timeouts and refused connections are retried with
the job's backoff; any other 4xx (or a 3xx) is refused for good and fails at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, fields

import httpx
from sqlalchemy.orm import Session

from huiying.channels import registry
from huiying.channels.base import Delivered, DeliveryFailed, Outgoing
from huiying.channels.email import compose
from huiying.channels.inapp import texts
from huiying.channels.models import MessageDelivery
from huiying.compensation import service as compensation
from huiying.kit.clock import utcnow
from huiying.portal.links import portal_url
from huiying.tickets.models import Ticket

CHANNEL = "inapp"
SIGNATURE_HEADER = "X-Huiying-Signature"
TIMEOUT_SECONDS = 10.0
# Refusals that mean "not now" rather than "never": retried like a server error.
RETRY_STATUSES = frozenset({408, 429})


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


def push_id(delivery_id: int) -> str:
    """The push's id: one per delivery, the same on every attempt."""
    return f"hy-{delivery_id}"


def body_of(push: Push) -> bytes:
    """The exact bytes posted (and signed): UTF-8 JSON, compact, Chinese left as it is."""
    return json.dumps(asdict(push), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The X-Huiying-Signature value of `body`: "sha256=" and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


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
        facts = texts.Facts(
            kind=delivery.kind,
            number=ticket.number,
            now=utcnow(),
            language=ticket.language,
            body=outgoing.text,
            first_response_due=ticket.first_response_due,
            resolution_due=ticket.resolution_due,
            timezone=self.timezone,
            compensations=(
                compensation.phrases_for(session, ticket, language=compose.language_of(ticket.language))
                if delivery.kind == "resolved"
                else ()
            ),
        )
        try:
            words = texts.text_for(facts)
        except ValueError:
            words = ""  # deliver() refuses it for good, saying which kind had no words
        push = Push(
            id=push_id(delivery.id),
            user_id=ticket.user_id,
            number=ticket.number,
            kind=delivery.kind,
            text=words,
            url=portal_url(self.base_url, self.secret_key, ticket.number),
        )
        plain = {f.name: getattr(outgoing, f.name) for f in fields(Outgoing)}
        return InappOutgoing(**plain, push=push)

    def deliver(self, outgoing: Outgoing) -> Delivered:
        push = outgoing.push if isinstance(outgoing, InappOutgoing) else None
        if push is None:
            raise DeliveryFailed("the push was not prepared (in-app sender registered without prepare)")
        if not push.user_id:
            raise DeliveryFailed("the ticket has no platform user id to push to", permanent=True)
        if not push.text:
            raise DeliveryFailed(f"no in-app text for {push.kind!r}", permanent=True)
        body = body_of(push)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(self.secret, body)}
        try:
            answer = httpx.post(self.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:  # refused, reset, timed out: the platform may be back soon
            raise DeliveryFailed(f"the in-app push endpoint did not answer: {type(exc).__name__}: {exc}") from exc
        if answer.is_success:
            return Delivered(external_id=push.id)
        error = f"the in-app push endpoint answered {answer.status_code}: {answer.text[:300]}".rstrip(": ")
        permanent = answer.status_code < 500 and answer.status_code not in RETRY_STATUSES
        raise DeliveryFailed(error, permanent=permanent)


def configure(*, url: str | None, secret: str | None, base_url: str, secret_key: str, timezone: str) -> None:
    """Register the sender for "inapp" when a push endpoint is configured; otherwise none, and
    the delivery job suppresses in-app deliveries with the reason (no in-app push configured)."""
    if not url or not secret:  # Settings refuses a URL without a secret; never push unsigned
        registry.register(CHANNEL, None)
        return
    sender = InappSender(url=url, secret=secret, base_url=base_url, secret_key=secret_key, timezone=timezone)
    registry.register(CHANNEL, sender, prepare=sender.prepare)
