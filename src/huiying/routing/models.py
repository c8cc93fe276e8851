"""Stored routing state: the ordered rules admins edit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, JSONType, UTCDateTime
from huiying.kit.clock import utcnow


class RoutingRuleRow(Base):
    """One rule; `body` is `routing.rules.RoutingRule.to_dict()`; rules run by `position`."""

    __tablename__ = "routing_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
