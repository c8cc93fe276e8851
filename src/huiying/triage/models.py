"""Stored triage state: the rules admins edit, the model versions, and the labels people gave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, JSONType, UTCDateTime
from huiying.kit.clock import utcnow


class TriageRule(Base):
    """One keyword rule; `body` is the rule as `triage.rules.Rule.to_dict()` writes it."""

    __tablename__ = "triage_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ModelVersion(Base):
    """A trained classifier in the safe model_store format, with what it was measured at."""

    __tablename__ = "triage_models"
    __table_args__ = (Index("ix_triage_models_target_version", "target", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="system")


class TriageLabel(Base):
    """A label a person gave (a correction or a confirmation), or one imported from a CSV."""

    __tablename__ = "triage_labels"
    __table_args__ = (Index("ix_triage_labels_target_id", "target", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
