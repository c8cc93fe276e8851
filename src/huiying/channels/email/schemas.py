"""What the mail quarantine endpoints answer. The sender is shown masked, as the lists of
tickets show contacts; the raw mail stays on the server."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from huiying.channels.email.models import MailQuarantine

QuarantineStatus = Literal["open", "retried", "ticketed", "dropped"]


class QuarantineOut(BaseModel):
    id: int
    status: QuarantineStatus
    reason: str
    source: str
    subject: str | None
    sender: str | None  # masked
    size: int
    attempts: int
    ticket: str | None  # the ticket it went to (retried or ticketed)
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class QuarantineList(BaseModel):
    items: list[QuarantineOut]
    next_cursor: str | None


class RetryOut(BaseModel):
    """`result` as `huiying mail import` counts it; still `quarantined` when it failed again."""

    result: Literal["imported", "threaded", "quarantined", "duplicate"]
    ticket: str | None
    reason: str | None
    entry: QuarantineOut


class TicketedOut(BaseModel):
    ticket: str
    entry: QuarantineOut


def quarantine_out(entry: MailQuarantine, *, ticket: str | None) -> QuarantineOut:
    return QuarantineOut(
        id=entry.id,
        status=entry.status,  # the check constraint keeps it one of them
        reason=entry.reason,
        source=entry.source,
        subject=entry.subject,
        sender=entry.sender_masked,
        size=entry.size,
        attempts=entry.attempts,
        ticket=ticket,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        resolved_at=entry.resolved_at,
        resolved_by=entry.resolved_by,
    )
