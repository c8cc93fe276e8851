"""Follow-up messages are idempotent: a channel's own id of a message (`source_ref`: an email's
Message-ID, a WeChat MsgId) is claimed like an intake key (tickets/intake.py), so a replayed
follow-up adds nothing. The claim is per ticket and channel; the same id with other words is
refused rather than silently dropped (a sender reusing ids is a bug worth seeing)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.errors import Conflict, InvalidInput
from huiying.tickets.intake import claim_key
from huiying.tickets.models import Message, Ticket


def _fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def earlier_message(session: Session, ticket: Ticket, *, channel: str, source_ref: str, body: str) -> Message | None:
    """Claim `source_ref` for this message: None if claimed now, else the message it made before.

    A concurrent replay waits on the claim until the first transaction ends, then finds its
    message; the same id with a different body is a 422 `source_ref_reused`."""
    fingerprint = _fingerprint(body)
    key = f"msg:{channel}:{ticket.id}:{source_ref}"
    claim = claim_key(session, key=key, fingerprint=fingerprint, expires_at=None)
    if claim is None:
        return None
    if claim.request_hash != fingerprint:
        raise InvalidInput(
            "this message id (source_ref) was already used for a different message on this ticket",
            code="source_ref_reused",
            details={"field": "source_ref"},
        )
    statement = select(Message).where(
        Message.ticket_id == ticket.id, Message.channel == channel, Message.source_ref == source_ref
    )
    earlier = session.scalar(statement)
    if earlier is None:
        raise Conflict("the earlier delivery of this message is still being processed; retry")
    return earlier
