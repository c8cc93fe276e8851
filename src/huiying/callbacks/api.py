"""Hotline calls and the call-back list (agents and above)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.callbacks import service
from huiying.callbacks.schemas import (
    CallbackItem,
    CallbackList,
    CallIn,
    CallOut,
    Outcome,
    OutcomeIn,
    OutcomeOut,
    Verdict,
)
from huiying.errors import NotFound
from huiying.http.deps import DB, AppSettings, Staff
from huiying.http.responses import json_model
from huiying.kit.clock import utcnow
from huiying.tickets.access import get_ticket_for

router = APIRouter(prefix="/api/v1", tags=["callbacks"])


def _outcome(value: str | None) -> Outcome | None:
    return Outcome(value) if value else None


@router.post("/calls", status_code=201, response_model=CallOut)
def log_call(body: CallIn, db: DB, settings: AppSettings, actor: Staff) -> Response:
    """Log a hotline call on a ticket, the caller's open ticket, or a new hotline ticket."""
    access.require(actor, Permission.TICKET_WRITE)
    with db.write() as session:
        logged = service.log_call(
            session,
            caller=body.caller,
            called_at=body.called_at or utcnow(),
            duration_seconds=body.duration_seconds,
            recording_url=body.recording_url,
            summary=body.summary,
            agent=actor,
            settings=settings,
            ticket_number=body.ticket,
        )
        out = CallOut(ticket=logged.ticket.number, created=logged.created, call_id=logged.call.id)
    return json_model(out, status_code=201)


@router.get("/callbacks", response_model=CallbackList)
def list_callbacks(db: DB, actor: Staff, include_done: bool = Query(False, alias="all")) -> Response:
    """The call-back list, soonest due first; `all=1` includes the done ones."""
    access.require(actor, Permission.TICKET_WRITE)
    with db.read() as session:
        rows = service.list_callbacks(session, now=utcnow(), open_only=not include_done, actor=actor)
    items = [
        CallbackItem(
            ticket=r.ticket, due_at=r.due_at, overdue=r.overdue, outcome=Outcome(r.outcome) if r.outcome else None
        )
        for r in rows
    ]
    return json_model(CallbackList(items=items))


@router.post("/callbacks/{number}/outcome", response_model=OutcomeOut)
def record_outcome(number: str, body: OutcomeIn, db: DB, actor: Staff) -> Response:
    """Record the call-back: not reached keeps it on the list; reached closes it with the verdict."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        callback = service.callback_of(session, ticket)
        if callback is None:
            raise NotFound(f"ticket {number!r} has no call-back", code="no_callback")
        service.record_outcome(
            session,
            callback,
            outcome=body.outcome.value,
            verdict=body.verdict.value if body.verdict else None,
            note=body.note,
            actor=actor,
        )
        out = OutcomeOut(
            ticket=ticket.number,
            due_at=callback.due_at,
            done_at=callback.done_at,
            overdue=service.is_overdue(callback, utcnow()),
            outcome=_outcome(callback.outcome),
            verdict=Verdict(callback.verdict) if callback.verdict else None,
            attempts=callback.attempts,
        )
    return json_model(out)
