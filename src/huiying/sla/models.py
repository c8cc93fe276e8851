"""The SLA policies table: admins edit it, intake reads it (sla/policies.py decides the match)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, UTCDateTime
from huiying.kit.clock import utcnow


class SlaPolicyRow(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(48), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # Conditions (None: any).
    priority: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(48))
    subcategory: Mapped[str | None] = mapped_column(String(48))
    group: Mapped[str | None] = mapped_column("group_name", String(16))
    # Targets in business minutes on `calendar` (None: the ticket team's calendar).
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    calendar: Mapped[str | None] = mapped_column(String(48))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
