"""What the email channel keeps about a person, for data-subject requests (privacy/dsr.py).

Two tables hold it beside the tickets: `mail_messages` (one row per mail taken in: when it was
sent, what it was, the sender's digest) and `mail_quarantine` (a mail that could not be taken
in: its raw bytes on disk, its subject and masked sender). A person's rows are found by their
tickets and by the digest of their address (a quarantined mail may belong to no ticket).

Erasure keeps each row's Message-ID and content digest and nothing else about the person: they
are what recognises a replay, and without them replaying the mailbox (or importing the old
helpdesk's export again) would bring the erased mail straight back as a new ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from huiying.channels.email.models import MailMessage, MailQuarantine
from huiying.kit.clock import utcnow

ERASED_SOURCE = "erased"
Row = TypeVar("Row", MailMessage, MailQuarantine)


@dataclass(frozen=True)
class MailErasure:
    mails: int  # mail_messages rows cleared
    quarantined: int  # quarantine entries cleared
    files: int  # raw quarantined mails deleted from disk


def _rows_of(model: type[Row], *, ticket_ids: list[int], sender_digests: list[str]) -> Select[Row]:
    """The person's rows of `model`: on one of their tickets, or sent from their address."""
    conditions: list[ColumnElement[bool]] = [false()]
    if ticket_ids:
        conditions.append(model.ticket_id.in_(ticket_ids))
    if sender_digests:
        conditions.append(model.sender_digest.in_(sender_digests))
    return select(model).where(or_(*conditions)).order_by(model.id)


def export(session: Session, *, ticket_ids: list[int], sender_digests: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The person's mails as we recorded them, and any of theirs still in quarantine."""
    mails = session.scalars(_rows_of(MailMessage, ticket_ids=ticket_ids, sender_digests=sender_digests))
    entries = session.scalars(_rows_of(MailQuarantine, ticket_ids=ticket_ids, sender_digests=sender_digests))
    return {
        "mails": [
            {
                "message_id": m.message_id or None,
                "sent_at": m.sent_at.isoformat(),
                "received_at": m.received_at.isoformat(),
                "kind": m.kind,
                "outcome": m.outcome,
            }
            for m in mails
        ],
        "quarantined_mails": [
            {
                "subject": q.subject,
                "reason": q.reason,
                "status": q.status,
                "size": q.size,
                "received_at": q.created_at.isoformat(),
            }
            for q in entries
        ],
    }


def erase(
    session: Session, *, ticket_ids: list[int], sender_digests: list[str], quarantine_root: Path, by: str
) -> MailErasure:
    """Clear the person from both tables and delete their quarantined raw mails (the mails that
    became tickets are the tickets' attachments: the caller deletes those)."""
    mails = list(session.scalars(_rows_of(MailMessage, ticket_ids=ticket_ids, sender_digests=sender_digests)))
    for mail in mails:
        mail.sender_digest = None
        mail.reason = None
        mail.source = ERASED_SOURCE
    entries = list(session.scalars(_rows_of(MailQuarantine, ticket_ids=ticket_ids, sender_digests=sender_digests)))
    files = 0
    now = utcnow()
    for entry in entries:
        raw = quarantine_root / entry.storage_key
        if raw.is_file():
            raw.unlink()
            files += 1
        entry.subject = entry.sender_masked = entry.sender_digest = None
        entry.source = ERASED_SOURCE
        entry.reason = "已按用户要求删除 / erased at the user's request"
        if entry.status == "open":  # nothing is left to retry: the bytes are gone
            entry.status, entry.resolved_at, entry.resolved_by = "dropped", now, by
        entry.updated_at = now
    return MailErasure(mails=len(mails), quarantined=len(entries), files=files)
