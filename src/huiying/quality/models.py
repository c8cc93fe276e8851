"""Quality reviews (质检): QA staff score handled tickets; scores count for the agent.

A review has an overall `score` (0-100) and, when given on the form, the criteria it came from
(1-5 each; `callback` only for tickets that had a call-back). Each week a seeded sample of every
agent's handled tickets is given to a QA person (`QASample`); scoring the ticket marks it done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, UTCDateTime

CRITERIA = ("accuracy", "tone", "timeliness", "process", "callback")


def _one_to_five(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} IS NULL OR ({column} >= 1 AND {column} <= 5)", name=column)


class QAReview(Base):
    __tablename__ = "qa_reviews"
    __table_args__ = (Index("ix_qa_reviews_agent_id", "agent_id"), *(_one_to_five(c) for c in CRITERIA))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    accuracy: Mapped[int | None] = mapped_column(Integer)
    tone: Mapped[int | None] = mapped_column(Integer)
    timeliness: Mapped[int | None] = mapped_column(Integer)
    process: Mapped[int | None] = mapped_column(Integer)
    callback: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QASample(Base):
    """One ticket drawn for QA in an ISO week ("2026-W49"), given to one QA person."""

    __tablename__ = "qa_samples"
    __table_args__ = (UniqueConstraint("week", "ticket_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"))
    # NULL when no QA person could take it (all of them worked on the ticket).
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The hex sha256 of "week:agent" that seeded the draw: kept so anyone can re-draw it.
    seed: Mapped[str] = mapped_column(String(64))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("qa_reviews.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
