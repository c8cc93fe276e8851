"""Suggestion groups, the tickets in them, and staff votes.

Nothing of the user's is copied here beyond the group's title: who a member is (for the count of
users) and what it says (for grouping) are read from its ticket, so a user's erasure
(privacy/dsr.py) reaches the pool without a second copy to clean.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, UTCDateTime

STATUSES = ("open", "planned", "adopted", "declined")


class SuggestionGroup(Base):
    __tablename__ = "suggestion_groups"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'planned', 'adopted', 'declined')", name="status"),
        Index("ix_suggestion_groups_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))  # the first suggestion's title
    status: Mapped[str] = mapped_column(String(12), default="open")
    timeline: Mapped[str | None] = mapped_column(String(100))  # planned: "2027 Q1", "预计两个月内"
    reason: Mapped[str | None] = mapped_column(Text)  # declined: why not, in words the user reads
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SuggestionMember(Base):
    """A ticket in the pool: in one group at a time (moved, never copied)."""

    __tablename__ = "suggestion_members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("suggestion_groups.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    score: Mapped[float | None] = mapped_column(Float)  # the similarity it joined with; None: new group or moved
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SuggestionVote(Base):
    """One staff member's +1 of a group (a second is the same vote)."""

    __tablename__ = "suggestion_votes"

    group_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("suggestion_groups.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
