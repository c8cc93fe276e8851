"""Tickets, their conversation, attachments and the append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from huiying.accounts.models import Team, User
from huiying.db import Base, BigId, JSONType, UTCDateTime
from huiying.kit.clock import utcnow
from huiying.kit.masking import mask_contact
from huiying.privacy import crypto

STATUS_VALUES = "'new','open','pending','resolved','closed','merged'"
# The queues' priority lane: VIPs and special groups (repository `lane_first`, migration 0022).
LANE_PREDICATE = "vip OR special_group IS NOT NULL"
PRIORITY_VALUES = "'urgent','high','medium','low'"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("channel", "source_ref"),
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="status"),
        CheckConstraint(f"priority IN ({PRIORITY_VALUES})", name="priority"),
        Index("ix_tickets_status_received_at_id", "status", "received_at", "id"),
        Index("ix_tickets_team_status_id", "team_id", "status", "id"),
        Index("ix_tickets_assignee_status_id", "assignee_id", "status", "id"),
        Index("ix_tickets_category_id", "category", "id"),
        Index("ix_tickets_user_id", "user_id", "id"),
        Index("ix_tickets_contact_digest", "contact_digest"),
        Index("ix_tickets_active_id", "active", "id"),
        Index("ix_tickets_active_assignee_team", "active", "assignee_id", "team_id"),
        Index("ix_tickets_active_refinement_id", "active", "needs_refinement", "id"),
        Index("ix_tickets_active_first_response_due", "active", "first_response_due"),
        Index("ix_tickets_active_resolution_due", "active", "resolution_due"),
        Index("ix_tickets_merged_into_id", "merged_into_id"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_received_at_id", "received_at", "id"),
        Index("ix_tickets_active_received_at_id", "active", "received_at", "id"),
        Index("ix_tickets_first_response_due", "first_response_due"),
        Index("ix_tickets_resolution_due", "resolution_due"),
        # The queues' priority lane (repository `lane_first`); migration 0022.
        Index(
            "ix_tickets_lane_active_received_at_id",
            "active",
            "received_at",
            "id",
            postgresql_where=text(LANE_PREDICATE),
            sqlite_where=text(LANE_PREDICATE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(128))
    user_name: Mapped[str | None] = mapped_column(String(100))  # how the user wants to be called
    # The contact is kept encrypted (privacy.crypto); lists show the masked copy, lookups by
    # contact use the keyed digest, and only a reader allowed to see it gets it decrypted.
    contact_encrypted: Mapped[str | None] = mapped_column(Text, deferred=True)
    contact_masked: Mapped[str | None] = mapped_column(String(254))
    contact_digest: Mapped[str | None] = mapped_column(String(64))

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(48))
    subcategory: Mapped[str | None] = mapped_column(String(48))
    priority: Mapped[str] = mapped_column(String(8), default="medium")
    status: Mapped[str] = mapped_column(String(12), default="new")
    # status in new/open/pending, kept by lifecycle.set_status: the queues' indexes lead with it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    sentiment: Mapped[str | None] = mapped_column(String(12))
    language: Mapped[str | None] = mapped_column(String(8))
    needs_refinement: Mapped[bool] = mapped_column(Boolean, default=False)

    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # A person set the team (not triage or a rule): a later category change keeps it.
    team_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    device_os: Mapped[str | None] = mapped_column(String(64))
    device_model: Mapped[str | None] = mapped_column(String(64))
    app_version: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    links: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frequency: Mapped[str | None] = mapped_column(String(16))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Routing, assignment and the SLA clock (migration 0017). The assignee was handed the ticket
    # at `assigned_at` and confirmed it (确认接收) at `accepted_at`.
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A group that skips the queue besides VIP (e.g. "accessibility"): set by an app or staff only.
    special_group: Mapped[str | None] = mapped_column(String(16))
    sla_policy: Mapped[str | None] = mapped_column(String(48))
    # Why a due time is missing (e.g. no calendar data for the year), shown on the ticket.
    sla_note: Mapped[str | None] = mapped_column(String(200))
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claimed once each by a conditional UPDATE, so two sweeps never warn or escalate twice.
    response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The user's satisfaction answer (surveys package; the response itself is in survey_responses),
    # kept here for the ticket JSON and the lists: very_satisfied|satisfied|neutral|dissatisfied, NPS 0–10.
    csat: Mapped[str | None] = mapped_column(String(16))
    nps: Mapped[int | None] = mapped_column(Integer)

    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # What triage decided and why: {field: {value, confidence, source, reason}, rules: [...]}.
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # jieba-cut words of title and description; indexed by FTS5 (SQLite) or GIN (PostgreSQL).
    search_tokens: Mapped[str] = mapped_column(Text, default="", deferred=True)

    team: Mapped[Team | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(lazy="joined")
    tag_rows: Mapped[list[TicketTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TicketTag.tag"
    )
    merged_into: Mapped[Ticket | None] = relationship(remote_side=[id], lazy="select")

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def set_contact(self, contact: str | None) -> None:
        """Store a contact: encrypted, masked for display, digested for lookup."""
        if not contact:
            self.contact_encrypted = self.contact_masked = self.contact_digest = None
            return
        self.contact_encrypted = crypto.encrypt(contact)
        self.contact_masked = mask_contact(contact)
        self.contact_digest = crypto.digest(contact)

    def contact_plain(self) -> str | None:
        return crypto.decrypt(self.contact_encrypted) if self.contact_encrypted else None


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(48), primary_key=True)


class Message(Base):
    """One entry of the conversation: the user's words, a public reply, or an internal note."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_ticket_id_id", "ticket_id", "id"),
        # A channel's own id of the message (Message-ID, MsgId) is taken once per ticket, so a
        # replayed follow-up adds nothing (tickets/service.py add_user_message).
        UniqueConstraint("ticket_id", "channel", "source_ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    author_type: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    delivery: Mapped[str] = mapped_column(String(12), default="not_needed")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(lazy="selectin")


class Attachment(Base):
    """An uploaded file. Public uploads start unattached; intake or a message claims them."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketEvent(Base):
    """Append-only: one row for every change of a ticket (who, what, old and new, when)."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_type: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketCounter(Base):
    """The last number handed out per local day on SQLite, bumped in the creating transaction
    (PostgreSQL uses a sequence per day, started after this row: `day_sequences`)."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class IntakeKey(Base):
    """What makes intake idempotent: an Idempotency-Key, or a channel's own message id."""

    __tablename__ = "intake_keys"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
