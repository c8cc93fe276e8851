"""Mail over HTTP, for admins: the quarantine (list it; retry, turn into a ticket or drop an
entry, each audited by channels/email/quarantine.py) and the mailboxes polled beside
HUIYING_IMAP_URL (list, add, change, remove, test; audited by channels/email/accounts.py, the
password taken, never returned). Thin: one transaction per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.channels.email import accounts, quarantine
from huiying.channels.email.models import MailQuarantine
from huiying.channels.email.schemas import (
    MailboxIn,
    MailboxList,
    MailboxOut,
    MailboxPatch,
    MailboxTestOut,
    QuarantineList,
    QuarantineOut,
    RetryOut,
    TicketedOut,
    mailbox_out,
    quarantine_out,
)
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


# --- mailboxes ------------------------------------------------------------------------------------


@router.get("/mailboxes", response_model=MailboxList)
def list_mailboxes(db: DB, actor: Staff) -> Response:
    """The mailboxes admins configured, with their last poll and its error: `{items}`."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        return json_model(MailboxList(items=[mailbox_out(a) for a in accounts.list_accounts(session)]))


@router.post("/mailboxes", response_model=MailboxOut, status_code=201)
def create_mailbox(body: MailboxIn, db: DB, actor: Staff) -> Response:
    """Add a mailbox to poll; a taken name is a 409, a plain-local one elsewhere than here a 422."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        account = accounts.create_account(session, **body.model_dump(), actor=actor)
        return json_model(mailbox_out(account), status_code=201)


@router.get("/mailboxes/{account_id}", response_model=MailboxOut)
def get_mailbox(account_id: PathId, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        return json_model(mailbox_out(accounts.get_account(session, account_id)))


@router.patch("/mailboxes/{account_id}", response_model=MailboxOut)
def patch_mailbox(account_id: PathId, body: MailboxPatch, db: DB, actor: Staff) -> Response:
    """Change the fields given (`enabled: false` stops polling it); the password only when given."""
    access.require(actor, Permission.CONFIG_MANAGE)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "move_to"}
    with db.write() as session:
        account = accounts.get_account(session, account_id, lock=True)
        return json_model(mailbox_out(accounts.update_account(session, account, changes=changes, actor=actor)))


@router.delete("/mailboxes/{account_id}", status_code=204)
def delete_mailbox(account_id: PathId, db: DB, actor: Staff) -> Response:
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.write() as session:
        accounts.delete_account(session, accounts.get_account(session, account_id, lock=True), actor=actor)
    return Response(status_code=204)


@router.post("/mailboxes/{account_id}/test", response_model=MailboxTestOut)
def test_mailbox(account_id: PathId, db: DB, actor: Staff) -> Response:
    """Log in and open the folder now, taking nothing in: `{ok, message, waiting}`."""
    access.require(actor, Permission.CONFIG_MANAGE)
    with db.read() as session:
        account = accounts.get_account(session, account_id)
    check = accounts.test_connection(account)  # outside the transaction: it waits on the network
    return json_model(MailboxTestOut(ok=check.ok, message=check.message, waiting=check.waiting))
