"""Writing the event log. Every service verb calls `record` in its own transaction.

Each ticket event is also an entry of the tamper-evident audit log (who, what, before and
after, from which address), so the audit trail covers tickets without a second call site.
Events are collected during the transaction and written in one batch just before it commits
(a new ticket with its triage makes eight of them; one INSERT each would cost more than the
rest of intake). Nothing reads events inside the transaction that writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.tickets.models import Ticket, TicketEvent

PENDING = "huiying_ticket_events"


def as_text(value: Any) -> str | None:
    """How a field value is kept in the log: text, ISO times, comma-joined lists."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(sorted(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def record(
    session: Session,
    *,
    ticket: Ticket,
    actor: Actor,
    action: str,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event; it commits or rolls back with the change it describes."""
    row = {
        "ticket_id": ticket.id,
        "actor_type": actor.type.value,
        "actor_id": actor.staff_id,
        "actor_name": actor.name[:100],
        "action": action,
        "field": field,
        "old_value": as_text(old),
        "new_value": as_text(new),
        "data": data,
        "created_at": at or utcnow(),
    }
    session.info.setdefault(PENDING, []).append(row)
    audit.record(
        session,
        actor=actor,
        action=f"ticket.{action}",
        object_type="ticket",
        object_id=ticket.number,
        before={field: row["old_value"]} if field else None,
        after={field: row["new_value"]} if field else data,
    )


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:
        session.execute(insert(TicketEvent.metadata.tables[TicketEvent.__tablename__]), rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)
