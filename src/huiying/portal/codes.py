"""One-time codes: a visitor proves they can read a contact, then sees that contact's feedback.

A code is six digits, lives ten minutes and survives five wrong guesses; only a keyed hash of
it is kept for checking. The code itself leaves through the outbox (job `send_portal_code`) to
the sender registered for the contact's kind in channels/codes.py, sealed in its row until the
job has run. Asking for a code answers the same whether or not any ticket has that contact, and
only a contact that some ticket has is ever sent anything, so neither the answer nor the
messages tell a stranger whose feedback exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from huiying import jobs
from huiying.channels import codes as senders
from huiying.db import Database
from huiying.errors import HuiyingError, InvalidInput, RateLimited
from huiying.kit.clock import utcnow
from huiying.portal.models import PortalCode
from huiying.privacy import crypto
from huiying.tickets.models import Ticket

log = logging.getLogger(__name__)

JOB = "send_portal_code"
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# Per contact and hour: with MAX_ATTEMPTS this bounds guessing to 25 tries an hour.
MAX_CODES_PER_HOUR = 5


class CannotSendCodes(HuiyingError):
    """No sender is registered for this kind of contact (SMS or email) in this install."""

    status_code = 503
    code = "code_delivery_unavailable"


def _code_hash(secret_key: str, contact_digest: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"portal-code:{contact_digest}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(
    session: Session, *, contact: str, language: str, secret_key: str, now: datetime | None = None
) -> None:
    """Make a code for `contact` and queue it for sending if some ticket has that contact.

    Raises InvalidInput for an empty contact, CannotSendCodes when nothing could send it, and
    RateLimited after MAX_CODES_PER_HOUR codes for the contact within the hour."""
    contact = contact.strip()
    if not contact:
        raise InvalidInput("enter the phone number or email you gave with your feedback", code="contact_required")
    if senders.sender_for(senders.kind_of(contact)) is None:
        raise CannotSendCodes(f"no {senders.kind_of(contact)} sender is configured")
    moment = now or utcnow()
    digests = crypto.candidate_digests(contact)
    digest = crypto.digest(contact)
    recent = session.scalar(
        select(func.count())
        .select_from(PortalCode)
        .where(PortalCode.contact_digest == digest, PortalCode.created_at > moment - timedelta(hours=1))
    )
    if (recent or 0) >= MAX_CODES_PER_HOUR:
        raise RateLimited("too many codes for this contact; try again later", retry_after=3600)
    # A new code replaces the ones before it: only the newest can be entered.
    session.execute(
        update(PortalCode)
        .where(PortalCode.contact_digest == digest, PortalCode.used_at.is_(None), PortalCode.expires_at > moment)
        .values(expires_at=moment)
    )
    known = session.scalar(select(Ticket.id).where(Ticket.contact_digest.in_(digests)).limit(1)) is not None
    code = f"{secrets.randbelow(10**6):06d}"
    row = PortalCode(
        contact_digest=digest,
        code_hash=_code_hash(secret_key, digest, code),
        code_sealed=crypto.encrypt(code) if known else None,
        language=language,
        attempts=0,
        delivery="queued" if known else "not_sent",
        created_at=moment,
        expires_at=moment + CODE_LIFETIME,
    )
    session.add(row)
    session.flush()
    if known:
        jobs.enqueue(session, JOB, {"code_id": row.id})


def verify_code(
    session: Session, *, contact: str, code: str, secret_key: str, now: datetime | None = None
) -> str | None:
    """The proved contact digest if `code` is the contact's newest live code; None otherwise.

    Every try counts against the code, also a wrong one (the caller's transaction must commit)."""
    moment = now or utcnow()
    row = session.scalar(
        select(PortalCode)
        .where(
            PortalCode.contact_digest.in_(crypto.candidate_digests(contact.strip())),
            PortalCode.used_at.is_(None),
            PortalCode.expires_at > moment,
            PortalCode.attempts < MAX_ATTEMPTS,
        )
        .order_by(PortalCode.created_at.desc(), PortalCode.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    # Counted in one conditional UPDATE: parallel guesses cannot get past the limit.
    counted = session.execute(
        update(PortalCode)
        .where(PortalCode.id == row.id, PortalCode.attempts < MAX_ATTEMPTS, PortalCode.used_at.is_(None))
        .values(attempts=PortalCode.attempts + 1)
    )
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        return None
    given = "".join(code.split())
    if not hmac.compare_digest(_code_hash(secret_key, row.contact_digest, given), row.code_hash):
        return None
    used = session.execute(
        update(PortalCode).where(PortalCode.id == row.id, PortalCode.used_at.is_(None)).values(used_at=moment)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return row.contact_digest


def send_code_job(db: Database, payload: dict[str, Any]) -> None:
    """Hand code `payload["code_id"]` to its sender once; an expired or used code is dropped."""
    with db.write() as session:
        row = session.get(PortalCode, int(payload["code_id"]))
        if row is None or row.code_sealed is None:
            return
        if row.used_at is not None or row.expires_at <= utcnow():
            row.code_sealed, row.delivery = None, "not_sent"
            return
        ticket = session.scalar(
            select(Ticket).where(Ticket.contact_digest == row.contact_digest).order_by(Ticket.id.desc()).limit(1)
        )
        contact = ticket.contact_plain() if ticket is not None else None
        sender = senders.sender_for(senders.kind_of(contact)) if contact else None
        if contact is None or sender is None:
            # Never log the code or the contact; the row says why nothing was sent.
            log.warning("portal code %s not sent: no sender for its contact", row.id)
            row.code_sealed, row.delivery = None, "no_sender"
            return
        # DeliveryFailed propagates: the outbox retries until the code has expired.
        sender.send_code(to=contact, code=crypto.decrypt(row.code_sealed), language=row.language)
        row.code_sealed, row.delivery = None, "sent"


def register_jobs() -> None:
    jobs.register(JOB, send_code_job)
