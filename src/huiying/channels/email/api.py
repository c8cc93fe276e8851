"""The mail quarantine over HTTP, for admins: list it; retry, turn into a ticket or drop an
entry (each audited by channels/email/quarantine.py). Thin: one transaction per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.channels.email import quarantine
from huiying.channels.email.models import MailQuarantine
from huiying.channels.email.schemas import QuarantineList, QuarantineOut, RetryOut, TicketedOut, quarantine_out
from huiying.http.deps import DB, AppSettings, PathId, Staff
from huiying.http.responses import json_model

router = APIRouter(prefix="/api/v1/mail", tags=["mail"])
MAX_LIMIT = 200


def _out(session: Session, entry: MailQuarantine) -> QuarantineOut:
    return quarantine_out(entry, ticket=quarantine.ticket_numbers(session, [entry]).get(entry.ticket_id or 0))


@router.get("/quarantine", response_model=QuarantineList)
def list_quarantine(
    db: DB,
    actor: Staff,
    status: Annotated[str | None, Query(pattern="^(open|retried|ticketed|dropped)$")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response:
    """Quarantined mail, newest first: `{items, next_cursor}`; `status=open` for the work left."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        entries, next_cursor = quarantine.list_entries(session, status=status, cursor=cursor, limit=limit)
        numbers = quarantine.ticket_numbers(session, entries)
        items = [quarantine_out(e, ticket=numbers.get(e.ticket_id or 0)) for e in entries]
    return json_model(QuarantineList(items=items, next_cursor=next_cursor))


@router.post("/quarantine/{entry_id}/retry", response_model=RetryOut)
def retry_entry(entry_id: PathId, db: DB, actor: Staff, settings: AppSettings) -> Response:
    """Take the mail in again (after a parser fix, or a flood that was real mail)."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        entry = quarantine.get_entry(session, entry_id, lock=True)
        outcome = quarantine.retry(session, entry, actor=actor, settings=settings)
        assert outcome.result != "failed"  # only import_one reports failures; import_mail raises
        body = RetryOut(result=outcome.result, ticket=outcome.number, reason=outcome.reason, entry=_out(session, entry))
    return json_model(body)


@router.post("/quarantine/{entry_id}/ticket", response_model=TicketedOut)
def ticket_entry(entry_id: PathId, db: DB, actor: Staff, settings: AppSettings) -> Response:
    """Make a ticket of the mail as it is: its raw text, the original attached."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        entry = quarantine.get_entry(session, entry_id, lock=True)
        ticket = quarantine.make_ticket(session, entry, actor=actor, settings=settings)
        body = TicketedOut(ticket=ticket.number, entry=quarantine_out(entry, ticket=ticket.number))
    return json_model(body)


@router.post("/quarantine/{entry_id}/drop", response_model=QuarantineOut)
def drop_entry(entry_id: PathId, db: DB, actor: Staff, settings: AppSettings) -> Response:
    """Drop the mail: its raw bytes are deleted; fetched again, it is a replay."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        entry = quarantine.get_entry(session, entry_id, lock=True)
        quarantine.drop(session, entry, actor=actor, settings=settings)
        body = quarantine_out(entry, ticket=None)
    return json_model(body)
