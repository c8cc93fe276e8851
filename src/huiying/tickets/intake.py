"""Intake: one ticket per piece of feedback, whatever the channel, and never two for a retry.

Two keys make intake idempotent, both claimed before anything else is written:
- the client's `Idempotency-Key` (a retry of the same request gets the same ticket; the same key
  with a different body is refused), kept for `idempotency_ttl_hours`;
- the channel's own id of the message (`source_ref`, e.g. an email Message-ID), kept for good.
A key is claimed with INSERT .. ON CONFLICT DO NOTHING: a concurrent duplicate waits for the
first transaction and then finds its key, so no savepoint or retry loop is needed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from huiying import events
from huiying.accounts.actor import Actor
from huiying.categories import service as categories
from huiying.config import Settings
from huiying.errors import Conflict, Forbidden, InvalidInput
from huiying.kit.clock import utcnow
from huiying.kit.sql import dialect_insert
from huiying.kit.text import document, search_tokens
from huiying.tickets import attachments, history, numbering
from huiying.tickets.enums import Priority, Status
from huiying.tickets.models import IntakeKey, Ticket, TicketTag
from huiying.tickets.schemas import FeedbackIn

TITLE_FROM_DESCRIPTION = 30


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool


def request_fingerprint(feedback: FeedbackIn) -> str:
    """A digest of what was asked, independent of JSON key order and spacing."""
    canonical = json.dumps(feedback.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def title_from(description: str) -> str:
    """A title for feedback that came without one: its first line, shortened."""
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if len(first_line) <= TITLE_FROM_DESCRIPTION:
        return first_line or "(无标题)"
    return first_line[:TITLE_FROM_DESCRIPTION].rstrip() + "…"


def with_vip(feedback: FeedbackIn, *, trusted: bool, vip_claimed: bool) -> FeedbackIn:
    """The feedback with the VIP flag it may carry; Forbidden if it asks for more.

    VIP raises the priority, so only staff and integrations with ticket:create (`trusted`) may
    set it, or the platform itself through its signed user token with the VIP flag
    (portal/user_token.py) — which marks the ticket VIP even when the body does not ask."""
    if feedback.vip and not (trusted or vip_claimed):
        raise Forbidden(
            "only staff, an API key with ticket:create or the platform's signed user token with the VIP flag "
            "(X-Huiying-User-Token) may set vip"
        )
    if vip_claimed and not feedback.vip:
        return feedback.model_copy(update={"vip": True})
    return feedback


def _claim_key(session: Session, *, key: str, fingerprint: str, expires_at: datetime | None) -> IntakeKey | None:
    """Claim `key` for this request; None if claimed now, else the earlier claim."""
    statement = (
        dialect_insert(session, IntakeKey)
        .values(key=key, request_hash=fingerprint, created_at=utcnow(), expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[IntakeKey.key])
        .returning(IntakeKey.key)
    )
    if session.execute(statement).scalar_one_or_none() is not None:
        return None
    return session.get(IntakeKey, key)


def _earlier_ticket(session: Session, claim: IntakeKey, *, compare: bool, fingerprint: str) -> Ticket:
    if compare and claim.request_hash != fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was already used with a different request body; "
            "use a new key for a new piece of feedback",
            code="idempotency_key_reused",
        )
    ticket = session.get(Ticket, claim.ticket_id) if claim.ticket_id else None
    if ticket is None:
        raise Conflict("the earlier request with this key is still being processed; retry")
    return ticket


def create_ticket(
    session: Session,
    *,
    feedback: FeedbackIn,
    actor: Actor,
    settings: Settings,
    idempotency_key: str | None = None,
    received_at: datetime | None = None,
) -> IntakeResult:
    """Turn feedback into a new ticket, or find the ticket an earlier delivery of it created."""
    now = utcnow()
    fingerprint = request_fingerprint(feedback)
    claimed: list[str] = []
    if idempotency_key is not None:
        key = f"idem:{idempotency_key}"
        expires = now + timedelta(hours=settings.idempotency_ttl_hours)
        earlier = _claim_key(session, key=key, fingerprint=fingerprint, expires_at=expires)
        if earlier is not None:
            ticket = _earlier_ticket(session, earlier, compare=True, fingerprint=fingerprint)
            return IntakeResult(ticket, created=False)
        claimed.append(key)
    if feedback.source_ref:
        key = f"src:{feedback.channel.value}:{feedback.source_ref}"
        earlier = _claim_key(session, key=key, fingerprint=fingerprint, expires_at=None)
        if earlier is not None:
            ticket = _earlier_ticket(session, earlier, compare=False, fingerprint=fingerprint)
            return IntakeResult(ticket, created=False)
        claimed.append(key)

    categories.check(session, feedback.category, feedback.subcategory)
    title = feedback.title or title_from(feedback.description)
    links = feedback.links.model_dump(exclude_none=True) if feedback.links else {}
    device = feedback.device
    ticket = Ticket(
        number=numbering.next_number(session, moment=now, tz=settings.tz, prefix=settings.ticket_number_prefix),
        channel=feedback.channel.value,
        source_ref=feedback.source_ref,
        user_id=feedback.user_id,
        user_name=feedback.user_name,
        title=title,
        description=feedback.description,
        category=feedback.category,
        subcategory=feedback.subcategory,
        priority=(feedback.priority or Priority.MEDIUM).value,
        status=Status.NEW.value,
        active=True,
        device_os=device.os if device else None,
        device_model=device.model if device else None,
        app_version=feedback.app_version,
        city=feedback.city,
        links=links,
        vip=feedback.vip,
        occurred_at=feedback.occurred_at,
        frequency=feedback.frequency.value if feedback.frequency else None,
        received_at=received_at or now,
        created_at=now,
        updated_at=now,
        search_tokens=search_tokens(document(title, feedback.description)),
        tag_rows=[TicketTag(tag=tag) for tag in dict.fromkeys(feedback.tags)],
    )
    ticket.set_contact(feedback.contact)
    session.add(ticket)
    session.flush()

    claimed_files = attachments.claim(
        session,
        ids=feedback.attachments,
        ticket_id=ticket.id,
        message_id=None,
        limit=settings.max_attachments_per_ticket,
    )
    if claimed:
        session.execute(update(IntakeKey).where(IntakeKey.key.in_(claimed)).values(ticket_id=ticket.id))
    history.record(
        session,
        ticket=ticket,
        actor=actor,
        action="created",
        data={
            "channel": ticket.channel,
            "priority": ticket.priority,
            "category": ticket.category,
            "attachments": [a.id for a in claimed_files],
        },
        at=now,
    )
    given = frozenset(
        name for name, value in (("category", feedback.category), ("priority", feedback.priority)) if value
    )
    events.publish(
        session,
        events.TicketCreated(ticket_id=ticket.id, number=ticket.number, channel=ticket.channel, given=given),
    )
    return IntakeResult(ticket, created=True)


def purge_expired_keys(session: Session, *, now: datetime | None = None) -> int:
    """Forget Idempotency-Keys past their lifetime (source ids are kept for good)."""
    moment = now or utcnow()
    rows = list(
        session.scalars(select(IntakeKey).where(IntakeKey.expires_at.is_not(None), IntakeKey.expires_at < moment))
    )
    for row in rows:
        session.delete(row)
    return len(rows)
