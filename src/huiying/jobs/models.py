"""The job tables: on-demand jobs (the outbox) and the schedule of periodic jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, JSONType, UTCDateTime
from huiying.kit.clock import utcnow


class OutboxJob(Base):
    """One on-demand job: pending → running → done, or back to pending to retry, or dead."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_available_at", "state", "available_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class PeriodicJob(Base):
    """A registered periodic job's schedule and lease; rows are added from the registry.

    `lease_until` is both the lease and the schedule: while a scheduler runs the job it holds
    the lease; after the run it is set to the next due time. A scheduler may claim the job only
    when `lease_until` has passed, with a conditional UPDATE, so two never run it at once.
    """

    __tablename__ = "periodic_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    every_seconds: Mapped[int] = mapped_column(Integer)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row; 0 after a success
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
