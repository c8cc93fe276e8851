"""Freezing and un-freezing accounts, content and functions, every step audited."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.audit import service as audit
from huiying.errors import Conflict, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.moderation.models import Freeze
from huiying.tickets import history
from huiying.tickets.models import Ticket


class TargetType(StrEnum):
    ACCOUNT = "account"
    CONTENT = "content"
    LIVE_ROOM = "live_room"
    FUNCTION = "function"


def freeze(
    session: Session,
    *,
    target_type: TargetType,
    target_id: str,
    reason: str,
    actor: Actor,
    ticket: Ticket | None = None,
) -> Freeze:
    """Freeze a target now; refuses a second active freeze of the same target."""
    active = session.scalar(
        select(Freeze).where(
            Freeze.target_type == target_type.value,
            Freeze.target_id == target_id,
            Freeze.lifted_at.is_(None),
        )
    )
    if active is not None:
        raise Conflict(f"{target_type.value} {target_id} is already frozen", code="already_frozen")
    row = Freeze(
        target_type=target_type.value,
        target_id=target_id,
        reason=reason,
        ticket_id=ticket.id if ticket else None,
        created_by_id=actor.staff_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="moderation.frozen",
        object_type=target_type.value,
        object_id=target_id,
        after={"reason": reason, "ticket": ticket.number if ticket else None, "freeze": row.id},
    )
    if ticket is not None:
        history.record(
            session,
            ticket=ticket,
            actor=actor,
            action="target_frozen",
            data={"target_type": target_type.value, "target_id": target_id, "freeze": row.id},
        )
    return row


def lift(session: Session, *, freeze_id: int, reason: str, actor: Actor) -> Freeze:
    row = session.get(Freeze, freeze_id)
    if row is None:
        raise NotFound("no such freeze", code="unknown_freeze")
    if row.lifted_at is not None:
        raise Conflict("this freeze was lifted already", code="already_lifted")
    row.lifted_at = utcnow()
    row.lifted_by_id = actor.staff_id
    row.lift_reason = reason
    audit.record(
        session,
        actor=actor,
        action="moderation.lifted",
        object_type=row.target_type,
        object_id=row.target_id,
        after={"reason": reason, "freeze": row.id},
    )
    return row


def list_freezes(session: Session, *, active_only: bool) -> list[Freeze]:
    statement = select(Freeze).order_by(Freeze.id.desc())
    if active_only:
        statement = statement.where(Freeze.lifted_at.is_(None))
    return list(session.scalars(statement.limit(500)))
