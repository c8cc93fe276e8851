"""The call-back list page (回访): phone tickets' call-backs, soonest due first, overdue ones in
red, an outcome form per row, and a form to log a hotline call. Thin: it calls the callbacks
service, as the API does, and answers with the page or a redirect back to it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.callbacks import service
from huiying.callbacks.models import OUTCOMES, VERDICTS
from huiying.errors import Forbidden, HuiyingError, InvalidInput, NotFound
from huiying.http.deps import DB, AppSettings
from huiying.kit.clock import utcnow
from huiying.tickets.access import get_ticket_for
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
PAGE = "/callbacks"


def _require(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.TICKET_WRITE):
        raise Forbidden("your role may not open this page")


def _back(*, done: str | None = None, error: str | None = None, ticket: str | None = None) -> RedirectResponse:
    # `done`, not `notice`: this page says its own confirmations (base.html knows only the ticket ones).
    params = {k: v for k, v in (("done", done), ("error", error), ("ticket", ticket)) if v}
    return RedirectResponse(PAGE + ("?" + urlencode(params) if params else ""), status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
def callbacks_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    show_all = request.query_params.get("all") == "1"
    with db.read() as session:
        rows = service.list_callbacks(session, now=utcnow(), open_only=not show_all, actor=page.actor)
    return render(
        request,
        "callbacks.html",
        page=page,
        rows=rows,
        show_all=show_all,
        outcomes=OUTCOMES,
        verdicts=VERDICTS,
        done=request.query_params.get("done"),
        logged=request.query_params.get("ticket"),
    )


def _called_at(value: str, request: Request) -> datetime:
    """The form's local time (datetime-local, the platform's zone) as aware UTC; empty: now."""
    if not value.strip():
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("the call time is not a date and time", details={"field": "called_at"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=request.app.state.settings.tz)
    return moment


@router.post(PAGE + "/calls")
def log_call(
    request: Request,
    db: DB,
    settings: AppSettings,
    page: Page,
    caller: Annotated[str, Form(max_length=32)],
    summary: Annotated[str, Form(max_length=20_000)],
    duration_seconds: Annotated[str, Form(max_length=8)] = "0",
    called_at: Annotated[str, Form(max_length=32)] = "",
    recording_url: Annotated[str, Form(max_length=500)] = "",
    ticket: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    _require(page)
    try:
        if not duration_seconds.strip().isdigit():
            raise InvalidInput("the duration is a whole number of seconds", details={"field": "duration_seconds"})
        with db.write() as session:
            logged = service.log_call(
                session,
                caller=caller,
                called_at=_called_at(called_at, request),
                duration_seconds=int(duration_seconds.strip()),
                recording_url=recording_url.strip() or None,
                summary=summary,
                agent=page.actor,
                settings=settings,
                ticket_number=ticket.strip() or None,
            )
            number = logged.ticket.number
    except HuiyingError as exc:
        return _back(error=refused(exc))
    return _back(done="call_logged", ticket=number)


@router.post(PAGE + "/{number}/outcome")
def record_outcome(
    number: str,
    db: DB,
    page: Page,
    outcome: Annotated[str, Form(max_length=16)],
    verdict: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    _require(page)
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            callback = service.callback_of(session, ticket)
            if callback is None:
                raise NotFound(f"ticket {number!r} has no call-back", code="no_callback")
            service.record_outcome(
                session,
                callback,
                outcome=outcome,
                verdict=verdict or None,
                note=note.strip() or None,
                actor=page.actor,
            )
    except HuiyingError as exc:
        return _back(error=refused(exc))
    return _back(done="callback_saved")
