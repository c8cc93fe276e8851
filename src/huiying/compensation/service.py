"""Compensation on tickets: an agent proposes, a supervisor or admin decides.

Policy a caller would not guess: nobody approves their own proposal (rejecting it, a
withdrawal, is allowed); a refund above the approval limit (HUIYING_COMPENSATION_APPROVAL_CNY,
handed in by the caller) needs an admin. Every change is on the ticket's timeline and therefore
in the audit log (tickets.history records both). Only approved compensation is told to the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.compensation import words
from huiying.compensation.models import Compensation
from huiying.errors import Conflict, Forbidden, InvalidInput, NotFound
from huiying.kit.actor import Actor
from huiying.kit.clock import utcnow
from huiying.kit.roles import Role
from huiying.tickets import service as tickets
from huiying.tickets.enums import Status
from huiying.tickets.models import Ticket

KINDS = ("coupon", "points", "refund", "membership_days", "other")
UNITS = ("CNY", "points", "days")
STATUSES = ("proposed", "approved", "rejected")
# The unit each kind is counted in (the first is its default); "other" may be any.
KIND_UNITS: dict[str, tuple[str, ...]] = {
    "coupon": ("CNY",),
    "points": ("points",),
    "refund": ("CNY",),
    "membership_days": ("days",),
    "other": UNITS,
}
DEFAULT_APPROVAL_CNY = Decimal("200")
# Numeric(12, 2): ten digits before the point.
MAX_AMOUNT = Decimal("9999999999.99")
NOTE_CHARS = 500


def default_unit(kind: str) -> str:
    return KIND_UNITS.get(kind, UNITS)[0]


def _checked_amount(amount: Decimal, unit: str) -> Decimal:
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise InvalidInput("the amount is not a number", code="bad_amount") from exc
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        raise InvalidInput("the amount must be above 0 and at most 9999999999.99", code="bad_amount")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput("the amount has more than two decimals", code="bad_amount")
    if unit != "CNY" and value != value.to_integral_value():
        raise InvalidInput(f"{unit} are counted in whole numbers", code="bad_amount")
    return value.quantize(Decimal("0.01"))


def propose(
    session: Session, ticket: Ticket, *, kind: str, amount: Decimal, unit: str | None, note: str, actor: Actor
) -> Compensation:
    """Record a proposed compensation on the ticket (ticket:write); a supervisor decides it."""
    access.require(actor, Permission.TICKET_WRITE)
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}", code="unknown_kind", details={"allowed": list(KINDS)})
    unit = unit or default_unit(kind)
    if unit not in KIND_UNITS[kind]:
        raise InvalidInput(f"{kind} is counted in {'/'.join(KIND_UNITS[kind])}", code="bad_unit")
    value = _checked_amount(amount, unit)
    if len(note) > NOTE_CHARS:
        raise InvalidInput("the note is longer than 500 characters", code="note_too_long")
    if ticket.status in (Status.MERGED.value, Status.CLOSED.value):
        raise Conflict("compensation is recorded on live tickets only", code="ticket_not_live")
    row = Compensation(
        ticket_id=ticket.id,
        kind=kind,
        amount=value,
        unit=unit,
        note=note.strip(),
        status="proposed",
        proposed_by=actor.staff_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    tickets.note_event(session, ticket, action="compensation_proposed", data=_data(row), actor=actor)
    return row


def needs_admin(comp: Compensation, *, limit_cny: Decimal) -> bool:
    """Whether approving `comp` takes an admin: a refund above the approval limit."""
    return comp.kind == "refund" and comp.unit == "CNY" and comp.amount > limit_cny


def decide(
    session: Session,
    comp: Compensation,
    *,
    approve: bool,
    actor: Actor,
    limit_cny: Decimal = DEFAULT_APPROVAL_CNY,
) -> None:
    """Approve or reject a proposal (supervisors and admins); a decision is final (409 after)."""
    access.require(actor, Permission.TEAM_MANAGE)
    if comp.status != "proposed":
        raise Conflict(f"this compensation is already {comp.status}", code="already_decided")
    if approve and comp.proposed_by is not None and comp.proposed_by == actor.staff_id:
        raise Forbidden("nobody approves their own proposal", code="own_proposal")
    # The role, not a permission: an admin's narrowed API key still is the admin deciding.
    if approve and needs_admin(comp, limit_cny=limit_cny) and actor.role != Role.ADMIN:
        raise Forbidden(
            f"a refund above CNY {words.number(limit_cny)} needs an admin",
            code="needs_admin",
            details={"limit": words.number(limit_cny)},
        )
    comp.status = "approved" if approve else "rejected"
    comp.approved_by = actor.staff_id
    comp.decided_at = utcnow()
    ticket = session.get_one(Ticket, comp.ticket_id)
    tickets.note_event(session, ticket, action=f"compensation_{comp.status}", data=_data(comp), actor=actor)


def _data(comp: Compensation) -> dict[str, object]:
    return {"compensation": comp.id, "kind": comp.kind, "amount": words.number(comp.amount), "unit": comp.unit}


def get(session: Session, compensation_id: int, *, lock: bool = False) -> Compensation:
    query = select(Compensation).where(Compensation.id == compensation_id)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"no compensation {compensation_id}", code="unknown_compensation")
    return row


def of_ticket(session: Session, ticket: Ticket) -> list[Compensation]:
    """Every compensation of the ticket, oldest first."""
    return list(
        session.scalars(select(Compensation).where(Compensation.ticket_id == ticket.id).order_by(Compensation.id))
    )


def approved_for(session: Session, ticket: Ticket) -> list[Compensation]:
    """The compensation the user is given (and told of), oldest first."""
    return [c for c in of_ticket(session, ticket) if c.status == "approved"]


def phrases_for(session: Session, ticket: Ticket, *, language: str) -> tuple[str, ...]:
    """The approved compensation of the ticket in words ("en" or zh-CN), for the resolution notice."""
    return tuple(
        words.phrase(kind=c.kind, amount=c.amount, unit=c.unit, note=c.note, language=language)
        for c in approved_for(session, ticket)
    )


@dataclass
class CategoryTotal:
    """Approved compensation of one category: how many, on how many tickets, the sum per unit."""

    category: str | None
    count: int = 0
    tickets: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)


def totals_by_category(
    session: Session, *, since: datetime, until: datetime, team_ids: frozenset[int] | None = None
) -> list[CategoryTotal]:
    """Compensation approved in [since, until) per ticket category (None: uncategorised), most
    compensated first. `team_ids`: only tickets of these teams and unrouted ones (None: all)."""
    window = (
        Compensation.status == "approved",
        Compensation.decided_at >= since,
        Compensation.decided_at < until,
    )
    scope = () if team_ids is None else (Ticket.team_id.in_(team_ids) | Ticket.team_id.is_(None),)
    per_unit = (
        select(Ticket.category, Compensation.unit, func.count(Compensation.id), func.sum(Compensation.amount))
        .join(Ticket, Ticket.id == Compensation.ticket_id)
        .where(*window, *scope)
        .group_by(Ticket.category, Compensation.unit)
    )
    per_category = (
        select(Ticket.category, func.count(func.distinct(Compensation.ticket_id)))
        .join(Ticket, Ticket.id == Compensation.ticket_id)
        .where(*window, *scope)
        .group_by(Ticket.category)
    )
    totals: dict[str | None, CategoryTotal] = {}
    for category, unit, count, total in session.execute(per_unit):
        row = totals.setdefault(category, CategoryTotal(category))
        row.count += int(count)
        row.sums[unit] = Decimal(total or 0).quantize(Decimal("0.01"))
    for category, ticket_count in session.execute(per_category):
        totals.setdefault(category, CategoryTotal(category)).tickets = int(ticket_count)
    return sorted(totals.values(), key=lambda t: (-t.count, t.category or ""))
