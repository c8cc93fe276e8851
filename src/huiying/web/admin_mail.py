"""The mail quarantine admin page: mail that could not be taken in, with why, where it came
from, and three buttons — retry, make a ticket of it as it is, drop. Thin: the actions are
`channels.email.quarantine`'s (audited there). Plain forms that HTMX sends in place (the row is
answered back); without JavaScript they post and come back with a notice. admin.py includes
this router ahead of its `/admin/{tab}` catch-all."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.channels.email import quarantine
from huiying.channels.email.schemas import QuarantineOut, quarantine_out
from huiying.errors import Forbidden, HuiyingError
from huiying.http.deps import DB, AppSettings, PathId
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

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
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        status = "open" if show == "open" else None
        entries, next_cursor = quarantine.list_entries(session, status=status, cursor=cursor, limit=PAGE_SIZE)
        numbers = quarantine.ticket_numbers(session, entries)
        rows = [quarantine_out(e, ticket=numbers.get(e.ticket_id or 0)) for e in entries]
    context: dict[str, Any] = {"tab": "mail", "entries": rows, "show": show, "next_cursor": next_cursor}
    return render(request, "admin_mail.html", page=page, **context)


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
