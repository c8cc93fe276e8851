"""Recording to the audit log, checking it, and reading it.

Entries are collected during a transaction and inserted just before it commits, so an entry
exists exactly when the change it records does. The insert takes no lock: the entry gets an id
from the database and waits, unchained, for the chainer (`chain_pending`), which gives waiting
entries their chain positions and hashes in id order under the head lock. Only chainers take
that lock, so writers never queue behind each other on it (they did when each commit chained
its own entries). The chainer runs every second as the `audit_chain` job and right before
anything reads the log (`chain_all`: the API, the export, the page, `audit verify`).

What the chain proves is unchanged for chained entries: a changed, removed or inserted entry
and a cut tail all break it. An entry is not covered until chained (a second or two), and
`verify` reports entries left unchained for longer than `STALE_AFTER` as a break: a stuck
chainer must not pass for a sound log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session

from huiying import jobs
from huiying.audit import chain
from huiying.audit.models import AuditEntry, AuditHead
from huiying.db import Database
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.sql import dialect_insert

PENDING = "huiying_audit_pending"
HEAD_ID = 1
CHAIN_JOB = "audit_chain"
# Entries chained per transaction: keeps the head lock and each UPDATE batch short.
CHAIN_BATCH = 1000
# The chainer runs every second; an entry still unchained after this long means it is stuck.
STALE_AFTER = timedelta(minutes=5)
_AUDIT_LOG = cast("Table", AuditEntry.__table__)


@dataclass(frozen=True)
class Verification:
    entries: int  # chained entries checked
    broken: chain.Break | None
    unchained: int = 0  # entries still waiting for the chainer (not covered by the check)


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
    if pending:
        # One INSERT (executemany) and no lock: seq, prev_hash and hash stay NULL for the chainer.
        # Into the table, not the entity: ORM bulk inserts split rows by which values are None.
        session.execute(insert(_AUDIT_LOG), pending)


def _lock_head(session: Session, *, wait: bool) -> AuditHead | None:
    """The head row, locked for this transaction; None if another chainer holds it and `wait`
    is False (PostgreSQL; SQLite's writers are one at a time anyway)."""
    query = (
        select(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .with_for_update(skip_locked=not wait)
        .execution_options(populate_existing=True)
    )
    head = session.scalar(query)
    if head is None:  # a database that never chained (the migration creates the row)
        session.execute(
            dialect_insert(session, AuditHead)
            .values(id=HEAD_ID, seq=0, hash=chain.GENESIS)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = session.scalar(query)
    return head


def chain_pending(session: Session, *, limit: int = CHAIN_BATCH, wait: bool = True) -> int:
    """Chain up to `limit` waiting entries, lowest id first; how many were chained.

    They take the positions after the head's, so an entry committed late with a lower id simply
    comes later in the chain: positions have no gaps whatever the commit order. `wait=False`
    returns 0 at once while another chainer holds the head (that one will chain them).
    """
    head = _lock_head(session, wait=wait)
    if head is None:
        return 0
    columns = [AuditEntry.id, *(getattr(AuditEntry, name) for name in chain.HASHED_FIELDS if name != "seq")]
    # Read back from the database, so the hash covers exactly what `verify` will read.
    waiting = session.execute(
        select(*columns).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id).limit(limit)
    ).all()
    if not waiting:
        return 0
    seq, prev = head.seq, head.hash
    links = []
    for row in waiting:
        seq += 1
        fields = {**row._asdict(), "seq": seq}
        del fields["id"]
        digest = chain.entry_hash(fields, prev)
        links.append({"entry_id": row.id, "new_seq": seq, "new_prev": prev, "new_hash": digest})
        prev = digest
    session.execute(
        update(_AUDIT_LOG)
        .where(_AUDIT_LOG.c.id == bindparam("entry_id"), _AUDIT_LOG.c.seq.is_(None))
        .values(seq=bindparam("new_seq"), prev_hash=bindparam("new_prev"), hash=bindparam("new_hash")),
        links,
    )
    head.seq, head.hash = seq, prev
    session.flush()
    return len(waiting)


def chain_all(db: Database, *, wait: bool = True) -> int:
    """Chain every entry committed so far, a batch per transaction; how many were chained.

    Readers call it first, so what they see is chained; with `wait` they wait for a running
    chainer (milliseconds) rather than read while it works.
    """
    with db.read() as session:  # the common case, nothing waiting, costs no write transaction
        if session.scalar(select(AuditEntry.id).where(AuditEntry.seq.is_(None)).limit(1)) is None:
            return 0
    total = 0
    while True:
        with db.write() as session:
            chained = chain_pending(session, wait=wait)
        total += chained
        if chained < CHAIN_BATCH:
            return total


def _chain_job(db: Database) -> None:
    chain_all(db, wait=False)


def register_jobs() -> None:
    jobs.register_periodic(CHAIN_JOB, _chain_job, every=timedelta(seconds=1))


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
        last = rows[-1].seq or last
        session.expunge_all()


def verify(session: Session, *, now: datetime | None = None) -> Verification:
    """Walk the whole chain; report how many entries and the first broken one, if any.

    Only chained entries are checked (call `chain_all` first). Entries that waited longer than
    `STALE_AFTER` to be chained count as a break at the position after the head.
    """
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, chain.GENESIS)
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for entry in _all_entries(session):
            count += 1
            yield entry

    broken = chain.first_break(counted(), head_seq=head_seq, head_hash=head_hash)
    unchained = AuditEntry.seq.is_(None)
    waiting = session.scalar(select(func.count()).select_from(AuditEntry).where(unchained)) or 0
    cutoff = (now or utcnow()) - STALE_AFTER
    stale = session.scalar(select(func.count()).select_from(AuditEntry).where(unchained, AuditEntry.at < cutoff))
    if broken is None and stale:
        minutes = int(STALE_AFTER.total_seconds() // 60)
        reason = f"{stale} entries waited over {minutes} minutes to be chained (is the {CHAIN_JOB} job running?)"
        broken = chain.Break(head_seq + 1, reason)
    return Verification(entries=count, broken=broken, unchained=waiting)


@dataclass
class AuditQuery:
    actor_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, query: AuditQuery, *, before_seq: int | None, limit: int) -> list[AuditEntry]:
    """Chained entries matching the query, newest first, below `before_seq` (keyset pagination).

    Entries not chained yet have no place in that order: call `chain_all` first.
    """
    statement = select(AuditEntry).where(AuditEntry.seq.is_not(None))
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
