"""The SLA sweep: warnings before a target, breaches after it, each acted on once.

Timers are rows: every 30 s the sweep finds the due tickets in one indexed query per kind (the
(active, due) indexes; nothing due means an empty index range), claims each by a conditional
UPDATE that only the first sweep wins (`... AND response_warned_at IS NULL`, rowcount 1 = ours),
and enqueues one job per claimed ticket in the same transaction. The job reloads the ticket,
re-checks that the clock still runs and the target is still missed, and acts: a warning alerts
the assignee and the team's supervisors, a breach escalates (sla.escalation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from huiying.alerts.service import alert_staff
from huiying.db import Database
from huiying.jobs import outbox
from huiying.jobs.registry import register, register_periodic
from huiying.kit.actor import SYSTEM
from huiying.kit.clock import utcnow
from huiying.sla import escalation
from huiying.sla.clock import PAUSED_STATUSES
from huiying.tickets import repository
from huiying.tickets import service as tickets
from huiying.tickets.enums import Priority
from huiying.tickets.models import Ticket, TicketEvent

WARN_BEFORE = timedelta(minutes=30)
EVERY = timedelta(seconds=30)
BATCH = 500  # claims per kind and sweep; the next sweep, 30 s later, takes the rest
WARNING_JOB = "sla_warning"
BREACH_JOB = "sla_breach"

_warn_before = WARN_BEFORE


def configure(*, warn_minutes: int | None = None) -> None:
    """How long before a target the warning goes out (wiring hands in the setting)."""
    global _warn_before
    _warn_before = WARN_BEFORE if warn_minutes is None else timedelta(minutes=warn_minutes)


@dataclass(frozen=True)
class Kind:
    name: str  # e.g. "response_warning"
    target: str  # "response" or "resolution"
    breach: bool
    due: InstrumentedAttribute[datetime | None]
    marker: InstrumentedAttribute[datetime | None]

    @property
    def job(self) -> str:
        return BREACH_JOB if self.breach else WARNING_JOB


KINDS = (
    Kind("response_warning", "response", False, Ticket.first_response_due, Ticket.response_warned_at),
    Kind("resolution_warning", "resolution", False, Ticket.resolution_due, Ticket.resolution_warned_at),
    Kind("response_breach", "response", True, Ticket.first_response_due, Ticket.response_breached_at),
    Kind("resolution_breach", "resolution", True, Ticket.resolution_due, Ticket.resolution_breached_at),
)
BY_NAME = {kind.name: kind for kind in KINDS}


def clock_running() -> ColumnElement[bool]:
    return and_(Ticket.active == true(), Ticket.status.not_in(sorted(PAUSED_STATUSES)))


def due_condition(kind: Kind, now: datetime, warn_before: timedelta) -> ColumnElement[bool]:
    """The rows of `kind` due at `now`: a range of the (active, due) index plus row filters."""
    window = kind.due <= now if kind.breach else and_(kind.due > now, kind.due <= now + warn_before)
    condition = and_(clock_running(), window, kind.marker.is_(None))
    if kind.target == "response":
        condition = and_(condition, Ticket.first_responded_at.is_(None))
    return condition


def find_due(session: Session, kind: Kind, now: datetime, *, limit: int = BATCH) -> list[int]:
    query = select(Ticket.id).where(due_condition(kind, now, _warn_before)).order_by(kind.due).limit(limit)
    return list(session.scalars(query))


def claim(session: Session, kind: Kind, ticket_id: int, now: datetime) -> bool:
    """Mark the ticket warned/breached for this target; True only for the sweep that did it."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, kind.marker.is_(None))
        .values({kind.marker.key: now})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0

    def line(self) -> str:
        return f"warned={self.warned} breached={self.breached} escalated={self.escalated}"


def sweep(db: Database, *, inline: bool = False) -> SweepResult:
    """One sweep as of `utcnow()`. `inline` (the CLI) acts on each claim at once in this
    process instead of enqueueing a job, so `escalated` is known when it returns."""
    now = utcnow()
    result = SweepResult()
    claimed: list[dict[str, Any]] = []
    with db.write() as session:
        for kind in KINDS:
            for ticket_id in find_due(session, kind, now):
                if not claim(session, kind, ticket_id, now):
                    continue
                payload = {"ticket_id": ticket_id, "kind": kind.name, "at": now.isoformat()}
                if kind.breach:
                    result.breached += 1
                else:
                    result.warned += 1
                if inline:
                    claimed.append(payload)
                else:
                    outbox.enqueue(session, kind.job, payload)
    for payload in claimed:
        if act(db, payload):
            result.escalated += 1
    return result


def sweep_job(db: Database) -> None:
    sweep(db)


# --- the per-ticket jobs ------------------------------------------------------------------------


def _still_due(ticket: Ticket, kind: Kind, at: datetime) -> bool:
    due = getattr(ticket, kind.due.key)
    if not ticket.active or ticket.status in PAUSED_STATUSES or due is None:
        return False
    if kind.target == "response" and ticket.first_responded_at is not None:
        return False
    # The due time may have moved since the claim (a new priority): act only if still due then.
    return bool(due <= at) if kind.breach else bool(at < due <= at + _warn_before)


def _done_already(session: Session, ticket: Ticket, kind: Kind, at: datetime) -> bool:
    # A job run twice (its process died before it was marked done) finds its own event.
    query = select(TicketEvent.data).where(
        TicketEvent.ticket_id == ticket.id,
        TicketEvent.action.in_(("sla_warning", "sla_breach")),
        TicketEvent.created_at >= at,
    )
    return any((data or {}).get("kind") == kind.name for data in session.scalars(query))


def _warn(session: Session, ticket: Ticket, kind: Kind, at: datetime) -> None:
    due = getattr(ticket, kind.due.key)
    what_zh, what_en = ("首次响应", "first response") if kind.target == "response" else ("解决", "resolution")
    tickets.note_event(
        session, ticket, action="sla_warning", data={"kind": kind.name, "due": due.isoformat()}, actor=SYSTEM
    )
    minutes = max(0, int((due - at).total_seconds() // 60))
    alert_staff(
        session,
        kind="sla_warning",
        text_zh=f"工单 {ticket.number} 的{what_zh}时限将在 {minutes} 分钟后到期。",
        text_en=f"Ticket {ticket.number}: the {what_en} target is due in {minutes} min.",
        team_id=ticket.team_id,
        user_ids=[
            *([ticket.assignee_id] if ticket.assignee_id else []),
            *escalation.supervisor_ids(session, ticket.team_id),
        ],
        ticket_id=ticket.id,
        urgent=ticket.priority == Priority.URGENT,
    )


def _breach(session: Session, ticket: Ticket, kind: Kind) -> None:
    tickets.note_event(session, ticket, action="sla_breach", data={"kind": kind.name}, actor=SYSTEM)
    what = "首次响应超时" if kind.target == "response" else "解决超时"
    escalation.escalate(session, ticket, reason=f"SLA {what}", actor=SYSTEM, kind="sla_breach")


def act(db: Database, payload: dict[str, Any]) -> bool:
    """Run one claimed warning or breach (the job; safe twice); True if it escalated."""
    kind = BY_NAME[payload["kind"]]
    at = datetime.fromisoformat(payload["at"])
    with db.write() as session:
        ticket = session.scalar(repository.for_update(select(Ticket).where(Ticket.id == payload["ticket_id"])))
        if ticket is None or not _still_due(ticket, kind, at) or _done_already(session, ticket, kind, at):
            return False
        if not kind.breach:
            _warn(session, ticket, kind, at)
            return False
        _breach(session, ticket, kind)
        return True


def _job(db: Database, payload: dict[str, Any]) -> None:
    act(db, payload)


JOBS: dict[str, Callable[[Database, dict[str, Any]], None]] = {WARNING_JOB: _job, BREACH_JOB: _job}


def register_jobs() -> None:
    for name, function in JOBS.items():
        register(name, function)
    register_periodic("sla_sweep", sweep_job, every=EVERY)
