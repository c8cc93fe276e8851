"""Recording to the audit log, checking it, and reading it.

Entries are collected during a transaction and appended just before it commits, under a lock
on the head row: the lock is held only for the commit itself, and an entry exists exactly
when the change it records does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from huiying.audit import chain
from huiying.audit.models import AuditEntry, AuditHead
from huiying.db import Database
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow

PENDING = "huiying_audit_pending"
HEAD_ID = 1


@dataclass(frozen=True)
class Verification:
    entries: int
    broken: chain.Break | None


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the log when this session's transaction commits."""
    session.info.setdefault(PENDING, []).append(
        {
            "at": utcnow(),
            "actor_type": actor.type.value,
            "actor_id": actor.staff_id,
            "actor_name": actor.name[:100],
            "action": action[:64],
            "object_type": object_type[:32],
            "object_id": object_id[:64] if object_id else None,
            "before": before,
            "after": after,
            "ip": actor.ip,
        }
    )


def apply_changes(
    session: Session,
    row: object,
    changes: dict[str, Any],
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
) -> bool:
    """Set each attribute in `changes` on `row` and record the ones whose value really changed
    (before and after) as one entry; False when nothing changed and nothing was recorded."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        if getattr(row, name) != value:
            before[name], after[name] = getattr(row, name), value
            setattr(row, name, value)
    if after:
        record(
            session,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
        )
    return bool(after)


def record_now(db: Database, **entry: Any) -> None:
    """Record an entry in a transaction of its own (for reads that must be audited)."""
    with db.write() as session:
        record(session, **entry)


def _merged(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Field changes of one object by one actor in one transaction become one entry (one
    operation, several fields), in the order they happened."""
    out: list[dict[str, Any]] = []
    for entry in pending:
        last = out[-1] if out else None
        same = last is not None and all(
            last[k] == entry[k]
            for k in ("actor_type", "actor_id", "actor_name", "ip", "object_type", "object_id", "action")
        )
        if same and last is not None and entry["action"] == "ticket.field_changed":
            last["before"] = {**(last["before"] or {}), **(entry["before"] or {})}
            last["after"] = {**(last["after"] or {}), **(entry["after"] or {})}
            continue
        out.append(dict(entry))
    return out


def _append(session: Session) -> None:
    pending = _merged(session.info.pop(PENDING, []))
    if not pending:
        return
    head = session.scalar(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update())
    if head is None:
        head = AuditHead(id=HEAD_ID, seq=0, hash=chain.GENESIS)
        session.add(head)
    seq, prev = head.seq, head.hash
    rows = []
    for fields in pending:
        seq += 1
        fields = dict(fields, seq=seq)
        digest = chain.entry_hash({k: fields[k] for k in chain.HASHED_FIELDS}, prev)
        rows.append(AuditEntry(**fields, prev_hash=prev, hash=digest))
        prev = digest
    session.add_all(rows)
    head.seq, head.hash = seq, prev
    session.flush()


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(PENDING):
        _append(session)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)


def _as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in (*chain.HASHED_FIELDS, "prev_hash", "hash")}


def _all_entries(session: Session, batch: int = 5000) -> Iterator[dict[str, Any]]:
    last = 0
    while True:
        rows = list(
            session.scalars(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch))
        )
        if not rows:
            return
        for row in rows:
            yield _as_dict(row)
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the whole chain; report how many entries and the first broken one, if any."""
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, chain.GENESIS)
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for entry in _all_entries(session):
            count += 1
            yield entry

    broken = chain.first_break(counted(), head_seq=head_seq, head_hash=head_hash)
    return Verification(entries=count, broken=broken)


@dataclass
class AuditQuery:
    actor_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, query: AuditQuery, *, before_seq: int | None, limit: int) -> list[AuditEntry]:
    """Entries matching the query, newest first, below `before_seq` (keyset pagination)."""
    statement = select(AuditEntry)
    if query.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == query.actor_id)
    if query.action:
        statement = statement.where(AuditEntry.action.startswith(query.action, autoescape=True))
    if query.object_type:
        statement = statement.where(AuditEntry.object_type == query.object_type)
    if query.object_id:
        statement = statement.where(AuditEntry.object_id == query.object_id)
    if query.since:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.until:
        statement = statement.where(AuditEntry.at < query.until)
    if before_seq is not None:
        statement = statement.where(AuditEntry.seq < before_seq)
    return list(session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(limit)))
