"""The audit log: append-only, each entry chained to the previous one by a SHA-256 hash.

An entry is written in two steps. Its transaction inserts it with an `id` from the database
and no chain position (`seq`, `prev_hash`, `hash` NULL: "not chained yet"), taking no lock.
The chainer (`service.chain_pending`) then gives the unchained entries, in `id` order, the next
positions and hashes under the head lock, which only chainers take.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from huiying.db import Base, BigId, JSONType, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor_id", "actor_id"),
        # The chainer's work list: small, as entries leave it within a second or two.
        Index(
            "ix_audit_log_unchained",
            "id",
            sqlite_where=text("seq IS NULL"),
            postgresql_where=text("seq IS NULL"),
        ),
    )

    # Taken at insert, without a lock; orders the entries waiting to be chained. It may have
    # gaps (a rolled-back insert, PostgreSQL's sequence cache): `seq` is what has none.
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The chain position, set by the chainer under the head lock, so 1, 2, 3, ... without gaps:
    # a deleted entry shows. NULL until chained, together with prev_hash and hash.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no FK: entries outlive accounts
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last chained entry's position and hash. Locked by the chainer only."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
