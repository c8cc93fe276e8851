"""The mail admin page. First the mailboxes polled: HUIYING_IMAP_URL's (shown, set outside) and
those admins add here, each with its last poll and error, and buttons to test, enable or disable
and remove one (`channels.email.accounts`, audited there; a password is taken, never shown).
Then the quarantine: mail that could not be taken in, with why, where it came from, and three
buttons — retry, make a ticket of it as it is, drop (`channels.email.quarantine`, audited there).
Plain forms; the quarantine's HTMX sends them in place (the row is answered back), without
JavaScript they post and come back with a notice. admin.py includes this router ahead of its
`/admin/{tab}` catch-all."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.channels.email import accounts, imap, quarantine
from huiying.channels.email.models import SECURITIES
from huiying.channels.email.schemas import MailboxIn, QuarantineOut, mailbox_out, quarantine_out
from huiying.errors import Forbidden, HuiyingError
from huiying.http.deps import DB, AppSettings, PathId
from huiying.web import i18n
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused, validation_text

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
PAGE_SIZE = 100
SHOWN = ("open", "all")


def _require(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.CONFIG_MANAGE):
        raise Forbidden("your role may not open this page")


@router.get("/admin/mail", response_class=HTMLResponse)
def mail_page(
    request: Request,
    db: DB,
    page: Page,
    settings: AppSettings,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    tested: Annotated[int | None, Query(ge=1)] = None,
    test_ok: Annotated[bool, Query()] = False,
    said: Annotated[str, Query(max_length=600)] = "",
) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        status = "open" if show == "open" else None
        entries, next_cursor = quarantine.list_entries(session, status=status, cursor=cursor, limit=PAGE_SIZE)
        numbers = quarantine.ticket_numbers(session, entries)
        rows = [quarantine_out(e, ticket=numbers.get(e.ticket_id or 0)) for e in entries]
        boxes = [mailbox_out(a) for a in accounts.list_accounts(session)]
    try:
        env_boxes = [box.display for box in imap.mailboxes(settings)]
    except ValueError as exc:  # shown as it is: the URL is the operator's to fix
        env_boxes = [str(exc)]
    context: dict[str, Any] = {
        "tab": "mail",
        "entries": rows,
        "show": show,
        "next_cursor": next_cursor,
        "mailboxes": boxes,
        "env_mailboxes": env_boxes,
        "securities": SECURITIES,
        "test": {"id": tested, "ok": test_ok, "said": said} if tested else None,
    }
    return render(request, "admin_mail.html", page=page, **context)


def _back(query: dict[str, str] | None = None, error: HuiyingError | None = None) -> RedirectResponse:
    params = {"error": refused(error)} if error else (query or {"notice": "done"})
    return RedirectResponse(f"/admin/mail?{urlencode(params)}", status_code=303)


# Declared ahead of `/admin/mail/{entry_id}`, whose path would match these too.
@router.post("/admin/mail/mailboxes")
async def add_mailbox(request: Request, db: DB, page: Page) -> Response:
    """The add form: the fields of MailboxIn (port empty: the usual one; `enabled` a checkbox)."""
    _require(page)
    form = await request.form()
    fields = {
        name: str(form.get(name) or "").strip()
        for name in ("name", "host", "port", "username", "folder", "security", "move_to")
    }
    try:
        body = MailboxIn(
            name=fields["name"],
            host=fields["host"],
            port=int(fields["port"]) if fields["port"].isdigit() else None,
            username=fields["username"],
            password=str(form.get("password") or ""),
            folder=fields["folder"] or "INBOX",
            security=fields["security"] or "imaps",  # MailboxIn checks it
            move_to=fields["move_to"] or None,
            enabled=form.get("enabled") is not None,
        )
    except ValidationError as exc:
        return _back({"error": validation_text(exc, i18n.language_of(request))})
    try:
        with db.write() as session:
            accounts.create_account(session, **body.model_dump(), actor=page.actor)
    except HuiyingError as exc:
        return _back(error=exc)
    return _back()


@router.post("/admin/mail/mailboxes/{account_id}")
def change_mailbox(
    account_id: PathId,
    db: DB,
    page: Page,
    action: Annotated[str, Form(pattern="^(enable|disable|delete|test)$")],
) -> Response:
    """`action=enable|disable|delete`, or `test`: the page comes back with what the test found."""
    _require(page)
    try:
        if action == "test":
            with db.read() as session:
                account = accounts.get_account(session, account_id)
            check = accounts.test_connection(account)  # outside any transaction: it waits on the network
            said = check.message if not check.ok else str(check.waiting or 0)
            return _back({"tested": str(account_id), "test_ok": str(check.ok).lower(), "said": said})
        with db.write() as session:
            account = accounts.get_account(session, account_id, lock=True)
            if action == "delete":
                accounts.delete_account(session, account, actor=page.actor)
            else:
                changes = {"enabled": action == "enable"}
                accounts.update_account(session, account, changes=changes, actor=page.actor)
    except HuiyingError as exc:
        return _back(error=exc)
    return _back()


@router.post("/admin/mail/{entry_id}")
def act_on_entry(
    entry_id: PathId,
    request: Request,
    db: DB,
    page: Page,
    settings: AppSettings,
    action: Annotated[str, Form(pattern="^(retry|ticket|drop)$")],
) -> Response:
    """`action=retry|ticket|drop`; an HTMX request gets the entry's row back, a plain form a redirect."""
    _require(page)
    error: HuiyingError | None = None
    still_quarantined = False
    row: QuarantineOut | None = None
    try:
        with db.write() as session:
            entry = quarantine.get_entry(session, entry_id, lock=True)
            if action == "retry":
                still_quarantined = quarantine.retry(session, entry, actor=page.actor, settings=settings).result == (
                    "quarantined"
                )
            elif action == "ticket":
                quarantine.make_ticket(session, entry, actor=page.actor, settings=settings)
            else:
                quarantine.drop(session, entry, actor=page.actor, settings=settings)
            row = quarantine_out(entry, ticket=quarantine.ticket_numbers(session, [entry]).get(entry.ticket_id or 0))
    except HuiyingError as exc:
        error = exc
    if request.headers.get("HX-Request") and row is not None:
        return render(request, "admin_mail_row.html", page=page, e=row, still_quarantined=still_quarantined)
    if error is not None:
        query = urlencode({"error": refused(error)})
    elif still_quarantined:
        query = urlencode({"error": "mail.still_quarantined"})
    else:
        query = "notice=done"
    return RedirectResponse(f"/admin/mail?{query}", status_code=303)
