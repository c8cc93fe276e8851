"""An admin's own wording of one notice kind in one language; without a row the default stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, UTCDateTime


class NoticeTemplate(Base):
    __tablename__ = "notice_templates"
    __table_args__ = (UniqueConstraint("kind", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # notices/wording.py KINDS
    language: Mapped[str] = mapped_column(String(8))  # zh-CN or en
    subject: Mapped[str] = mapped_column(Text)  # the mail's subject (after "[#number] ")
    body: Mapped[str] = mapped_column(Text)  # the mail's news paragraph(s)
    short: Mapped[str] = mapped_column(Text)  # an in-app push or an SMS
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
