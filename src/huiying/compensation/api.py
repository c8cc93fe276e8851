"""Compensation on tickets: list and propose, decide, and the per-category report."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.accounts.models import User
from huiying.compensation import service, words
from huiying.compensation.models import Compensation
from huiying.compensation.schemas import (
    CategoryTotalOut,
    CompensationIn,
    CompensationOut,
    CompensationReport,
    DecisionIn,
)
from huiying.errors import InvalidInput
from huiying.http.deps import DB, AppSettings, PathId, Staff
from huiying.http.responses import json_model, json_models
from huiying.kit.clock import utcnow
from huiying.tickets.access import get_ticket_for
from huiying.tickets.models import Ticket

router = APIRouter(prefix="/api/v1", tags=["compensation"])
REPORT_DAYS = 30


def out(session: Session, rows: list[Compensation], number: str) -> list[CompensationOut]:
    ids = {i for r in rows for i in (r.proposed_by, r.approved_by) if i is not None}
    emails: dict[int, str] = (
        {i: e for i, e in session.execute(select(User.id, User.email).where(User.id.in_(ids)))} if ids else {}
    )
    return [
        CompensationOut(
            id=r.id,
            ticket=number,
            kind=r.kind,
            amount=r.amount,
            unit=r.unit,
            note=r.note,
            status=r.status,
            proposed_by=emails.get(r.proposed_by) if r.proposed_by else None,
            approved_by=emails.get(r.approved_by) if r.approved_by else None,
            created_at=r.created_at,
            decided_at=r.decided_at,
            text_zh=words.phrase(kind=r.kind, amount=r.amount, unit=r.unit, note=r.note, language="zh-CN"),
            text_en=words.phrase(kind=r.kind, amount=r.amount, unit=r.unit, note=r.note, language="en"),
        )
        for r in rows
    ]


@router.get("/tickets/{number}/compensations", response_model=list[CompensationOut])
def list_compensations(number: str, db: DB, actor: Staff) -> Response:
    """The ticket's compensation, proposed, approved and rejected, oldest first."""
    with db.read() as session:
        ticket = get_ticket_for(session, actor, number)
        return json_models(out(session, service.of_ticket(session, ticket), ticket.number), CompensationOut)


@router.post("/tickets/{number}/compensations", status_code=201, response_model=CompensationOut)
def propose(number: str, body: CompensationIn, db: DB, actor: Staff) -> Response:
    """Propose a compensation (agents and up); it reaches the user once approved."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        row = service.propose(
            session, ticket, kind=body.kind, amount=body.amount, unit=body.unit, note=body.note, actor=actor
        )
        return json_model(out(session, [row], ticket.number)[0], status_code=201)


@router.post("/compensations/{compensation_id}/decision", response_model=CompensationOut)
def decide(compensation_id: PathId, body: DecisionIn, db: DB, settings: AppSettings, actor: Staff) -> Response:
    """Approve or reject (supervisors and admins; not one's own proposal; big refunds: admins)."""
    access.require(actor, Permission.TEAM_MANAGE)
    with db.write() as session:
        comp = service.get(session, compensation_id)
        # The ticket's gate answers 404 for a ticket of a team the actor does not see, and locks
        # the ticket: two deciders of one proposal take turns, the second gets 409.
        ticket = get_ticket_for(
            session, actor, session.get_one(Ticket, comp.ticket_id).number, permission=Permission.TICKET_WRITE
        )
        session.refresh(comp)
        service.decide(session, comp, approve=body.approve, actor=actor, limit_cny=settings.compensation_approval_cny)
        return json_model(out(session, [comp], ticket.number)[0])


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{name} needs a UTC offset, e.g. 2026-11-23T00:00:00+08:00", code="naive_time")


@router.get("/reports/compensation", response_model=CompensationReport)
def report(db: DB, actor: Staff, since: datetime | None = None, until: datetime | None = None) -> Response:
    """Approved compensation per category, by decision time in [since, until) (default: the
    last 30 days); supervisors see their teams' tickets, admins all."""
    access.require(actor, Permission.TEAM_MANAGE)
    _aware("since", since)
    _aware("until", until)
    end = until or utcnow()
    start = since or end - timedelta(days=REPORT_DAYS)
    if start >= end:
        raise InvalidInput("since must be before until", code="bad_period")
    with db.read() as session:
        totals = service.totals_by_category(session, since=start, until=end, team_ids=access.visible_team_ids(actor))
    items = [CategoryTotalOut(category=t.category, count=t.count, tickets=t.tickets, sums=t.sums) for t in totals]
    return json_model(CompensationReport(since=start, until=end, items=items))
