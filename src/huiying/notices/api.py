"""Notices over HTTP: an agent tells of a delay or that a problem cannot be solved, staff resend
a delivery, admins reword the notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.channels import delivery
from huiying.channels.schemas import DeliveryOut, delivery_out
from huiying.http.deps import DB, PathId, Staff
from huiying.http.responses import json_model
from huiying.kit.strings import InputModel
from huiying.notices import service, triggers, wording
from huiying.tickets.access import get_ticket_for

router = APIRouter(prefix="/api/v1", tags=["notices"])


class DelayIn(InputModel):
    reason: Annotated[str, Field(max_length=triggers.MAX_REASON_CHARS * 2)]
    expected_at: datetime


class UnsolvableIn(InputModel):
    reason: Annotated[str, Field(max_length=triggers.MAX_REASON_CHARS * 2)]
    alternative: Annotated[str, Field(max_length=triggers.MAX_REASON_CHARS * 2)]


class Done(BaseModel):
    number: str
    status: str


@router.post("/tickets/{number}/delay", response_model=Done)
def announce_delay(number: str, body: DelayIn, db: DB, actor: Staff) -> Response:
    """Tell the user their ticket needs more time: the reason and the new expected time."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        triggers.announce_delay(session, ticket, reason=body.reason, expected_at=body.expected_at, actor=actor)
        return json_model(Done(number=ticket.number, status=ticket.status))


@router.post("/tickets/{number}/unsolvable", response_model=Done)
def declare_unsolvable(number: str, body: UnsolvableIn, db: DB, actor: Staff) -> Response:
    """The problem cannot be solved: the user hears why and what to do instead; the ticket is resolved."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        triggers.declare_unsolvable(session, ticket, reason=body.reason, alternative=body.alternative, actor=actor)
        return json_model(Done(number=ticket.number, status=ticket.status))


@router.post("/tickets/{number}/deliveries/{delivery_id}/resend", response_model=DeliveryOut)
def resend(number: str, delivery_id: PathId, db: DB, actor: Staff) -> Response:
    """Send a reply or notice again (failed, suppressed, or the user says it never came)."""
    with db.write() as session:
        ticket = get_ticket_for(session, actor, number, permission=Permission.TICKET_WRITE)
        return json_model(delivery_out(delivery.resend(session, ticket, delivery_id, actor=actor)))


# --- the admins' wording -------------------------------------------------------------------------


class TemplateIn(InputModel):
    subject: Annotated[str, Field(max_length=wording.MAX_CHARS["subject"] * 2)]
    body: Annotated[str, Field(max_length=wording.MAX_CHARS["body"] * 2)]
    short: Annotated[str, Field(max_length=wording.MAX_CHARS["short"] * 2)]


class TemplateOut(BaseModel):
    kind: str
    language: str
    subject: str
    body: str
    short: str
    custom: bool  # false: the built-in words


class Templates(BaseModel):
    items: list[TemplateOut]
    placeholders: dict[str, str]  # each placeholder and what it says (English)


def _out(found: service.Wording) -> TemplateOut:
    texts = found.texts
    return TemplateOut(
        kind=found.kind,
        language=found.language,
        subject=texts.subject,
        body=texts.body,
        short=texts.short,
        custom=found.custom,
    )


@router.get("/notice-templates", response_model=Templates)
def list_templates(db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        items = [_out(w) for w in service.all_wordings(session)]
        placeholders = {name: words[1] for name, words in wording.PLACEHOLDERS.items()}
        return json_model(Templates(items=items, placeholders=placeholders))


@router.put("/notice-templates/{kind}/{language}", response_model=TemplateOut)
def save_template(kind: str, language: str, body: TemplateIn, db: DB, actor: Staff) -> Response:
    """Reword one notice in one language; 422 names an unknown placeholder or a lone brace."""
    access.require(actor, Permission.CONFIG_MANAGE)
    texts = wording.Texts(body.subject.strip(), body.body.strip(), body.short.strip())
    with db.write() as session:
        return json_model(_out(service.save(session, kind=kind, language=language, texts=texts, actor=actor)))


@router.delete("/notice-templates/{kind}/{language}", response_model=TemplateOut)
def reset_template(kind: str, language: str, db: DB, actor: Staff) -> Response:
    """Back to the built-in words."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        return json_model(_out(service.reset(session, kind=kind, language=language, actor=actor)))
