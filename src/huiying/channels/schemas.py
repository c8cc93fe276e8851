"""What GET /api/v1/tickets/{number}/deliveries answers (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from huiying.channels.models import MessageDelivery


class DeliveryOut(BaseModel):
    id: int
    message_id: int | None  # None for a notice about the ticket (an acknowledgement, a status change)
    channel: str
    kind: str
    status: Literal["queued", "sent", "failed", "suppressed"]
    attempts: int
    # Why it is not sent (suppressed), why it failed, or the last error of a queued retry.
    error: str | None
    reason: str | None
    created_at: datetime
    sent_at: datetime | None
    # A proactive notice made in quiet hours waits until then (HUIYING_QUIET_HOURS).
    not_before: datetime | None = None
    resent: int = 0  # how often staff sent it again


class Deliveries(BaseModel):
    items: list[DeliveryOut]


def delivery_out(row: MessageDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        message_id=row.message_id,
        channel=row.channel,
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        reason=row.reason,
        created_at=row.created_at,
        sent_at=row.sent_at,
        not_before=row.not_before,
        resent=row.resent,
    )
