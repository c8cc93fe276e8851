"""Freezes for compliance: the platform reads the active ones and enforces them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.http.deps import DB, PathId, Staff
from huiying.http.responses import json_model, json_models
from huiying.kit.strings import CleanLine, CleanText, InputModel
from huiying.moderation import service
from huiying.moderation.models import Freeze
from huiying.moderation.service import TargetType
from huiying.tickets.access import get_ticket_for
from huiying.tickets.models import Ticket

router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])


class FreezeIn(InputModel):
    target_type: TargetType
    target_id: Annotated[CleanLine, Field(min_length=1, max_length=128)]
    reason: Annotated[CleanText, Field(min_length=1, max_length=2000)]
    ticket: Annotated[str, Field(max_length=32)] | None = None


class LiftIn(InputModel):
    reason: Annotated[CleanText, Field(min_length=1, max_length=2000)]


class FreezeOut(BaseModel):
    id: int
    target_type: str
    target_id: str
    reason: str
    ticket: str | None
    created_at: datetime
    lifted_at: datetime | None
    active: bool


def _out(row: Freeze, number: str | None) -> FreezeOut:
    return FreezeOut(
        id=row.id,
        target_type=row.target_type,
        target_id=row.target_id,
        reason=row.reason,
        ticket=number,
        created_at=row.created_at,
        lifted_at=row.lifted_at,
        active=row.lifted_at is None,
    )


@router.post("/freezes", status_code=201, response_model=FreezeOut)
def freeze(body: FreezeIn, db: DB, actor: Staff) -> Response:
    """Freeze an account, content, live room or function at once (audited)."""
    access.require(actor, Permission.MODERATION_FREEZE)
    with db.write() as session:
        ticket = get_ticket_for(session, actor, body.ticket) if body.ticket else None
        row = service.freeze(
            session,
            target_type=body.target_type,
            target_id=body.target_id,
            reason=body.reason,
            actor=actor,
            ticket=ticket,
        )
        return json_model(_out(row, ticket.number if ticket else None), status_code=201)


@router.post("/freezes/{freeze_id}/lift", response_model=FreezeOut)
def lift(freeze_id: PathId, body: LiftIn, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.MODERATION_FREEZE)
    with db.write() as session:
        row = service.lift(session, freeze_id=freeze_id, reason=body.reason, actor=actor)
        number = session.scalar(select(Ticket.number).where(Ticket.id == row.ticket_id)) if row.ticket_id else None
        return json_model(_out(row, number))


@router.get("/freezes", response_model=list[FreezeOut])
def list_freezes(db: DB, actor: Staff, active: bool = True) -> Response:
    access.require(actor, Permission.MODERATION_FREEZE)
    with db.read() as session:
        rows = service.list_freezes(session, active_only=active)
        ids = [r.ticket_id for r in rows if r.ticket_id]
        numbers = {i: n for i, n in session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids)))}
        return json_models([_out(r, numbers.get(r.ticket_id or 0)) for r in rows], FreezeOut)
