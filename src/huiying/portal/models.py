"""One-time codes that prove a visitor can read a contact (phone or email)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, UTCDateTime


class PortalCode(Base):
    __tablename__ = "portal_codes"
    __table_args__ = (Index("ix_portal_codes_contact_digest_created_at", "contact_digest", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The keyed digest of the contact (privacy.crypto), never the contact itself.
    contact_digest: Mapped[str] = mapped_column(String(64))
    # A keyed hash of the code: a stolen table does not give the codes away.
    code_hash: Mapped[str] = mapped_column(String(64))
    # The code encrypted (privacy.crypto) for the delivery job only; cleared once it has run.
    code_sealed: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # queued | sent | no_sender | failed | not_sent (no ticket has this contact, or it expired)
    delivery: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
