"""One row per public reply and per way it goes out: the honest record of what reached the user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, JSONType, UTCDateTime
from huiying.kit.clock import utcnow


class MessageDelivery(Base):
    """queued → sent | failed | suppressed; only the delivery job (after commit) moves it on."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # One row per message and channel: a replayed reply or a second job run adds nothing.
        UniqueConstraint("message_id", "channel"),
        # A notice about the ticket (the acknowledgement, a status change) has no message of its
        # own: its key makes it once per ticket and channel (migration 0024).
        UniqueConstraint("ticket_id", "channel", "notice_key"),
        Index("ix_deliveries_ticket_id_id", "ticket_id", "id"),
        # A bounce or an answer names the Message-ID we sent: it finds its delivery here.
        Index("ix_deliveries_mail_message_id", "mail_message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # The reply it sends; None for a notice about the ticket (then `notice_key` says which).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # email, portal, inapp, phone, offline, wechat…
    kind: Mapped[str] = mapped_column(String(16))  # what is sent: "reply", "received", "resolved"…
    notice_key: Mapped[str | None] = mapped_column(String(32))  # e.g. "received", "resolved:0"
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Why it was not sent (a code the pages translate) and the error in plain words.
    reason: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))  # the channel's own id, if any
    # The Message-ID of the mail (without <>), taken when it is first claimed and kept across
    # retries, so a bounce or a reply matches it even if recording the send was lost.
    mail_message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while a run is sending it: a second run (a duplicate job, a stale-job recovery) waits
    # and retries instead of sending the same reply again; a run that died loses it when it expires.
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A proactive notice made during quiet hours waits until they end (HUIYING_QUIET_HOURS);
    # its job is delayed until then, and the ticket page says so meanwhile.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What a notice says beyond the ticket's own facts: a delay's reason and new expected time,
    # the alternative to an unsolvable problem, a suggestion's outcome (notices/values.py).
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # How often staff sent it again (the ticket page's resend): a new push id and Message-ID each time.
    resent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
