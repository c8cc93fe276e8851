"""The suggestion pool page (建议池): groups of similar suggestions with their users, votes and
status, a status filter; a group's page with its tickets, a +1, moving a ticket in, and the
decision form for product staff. Thin: it calls the suggestions service, as the API does, and
answers with the page or a redirect back to it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Forbidden, HuiyingError
from huiying.http.deps import DB, PathId
from huiying.suggestions import queries, service
from huiying.suggestions.models import STATUSES
from huiying.tickets.access import get_ticket_for
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
PAGE = "/suggestions"


def _require(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.TICKET_READ):
        raise Forbidden("your role may not open this page")


def _back(group_id: int, *, done: str | None = None, error: str | None = None) -> RedirectResponse:
    # `done`, not `notice`: this page says its own confirmations (base.html knows only the ticket ones).
    params = {k: v for k, v in (("done", done), ("error", error)) if v}
    return RedirectResponse(f"{PAGE}/{group_id}" + ("?" + urlencode(params) if params else ""), status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
def suggestions_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    status = request.query_params.get("status") or None
    status = status if status in STATUSES else None
    q = (request.query_params.get("q") or "")[:100]
    with db.read() as session:
        rows = queries.list_groups(session, actor=page.actor, status=status, q=q or None)
    return render(request, "suggestions.html", page=page, rows=rows, statuses=STATUSES, status=status, q=q)


@router.get(PAGE + "/{group_id}", response_class=HTMLResponse)
def group_page(group_id: PathId, request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        detail = queries.group_detail(session, group_id, actor=page.actor)
    return render(
        request,
        "suggestion.html",
        page=page,
        detail=detail,
        group=detail.group,
        statuses=STATUSES,
        may_decide=access.has(page.actor, Permission.SUGGESTION_DECIDE),
        may_move=access.has(page.actor, Permission.TICKET_WRITE),
        done=request.query_params.get("done"),
    )


@router.post(PAGE + "/{group_id}/vote")
def vote(group_id: PathId, db: DB, page: Page, on: Annotated[str, Form(max_length=1)] = "1") -> Response:
    _require(page)
    try:
        with db.write() as session:
            group = service.group_for(session, group_id)
            service.vote(session, group, actor=page.actor, on=on == "1")
    except HuiyingError as exc:
        return _back(group_id, error=refused(exc))
    return _back(group_id)


@router.post(PAGE + "/{group_id}/decision")
def decide(
    group_id: PathId,
    db: DB,
    page: Page,
    status: Annotated[str, Form(max_length=12)],
    timeline: Annotated[str, Form(max_length=service.TIMELINE_CHARS)] = "",
    reason: Annotated[str, Form(max_length=service.REASON_CHARS)] = "",
) -> Response:
    _require(page)
    try:
        with db.write() as session:
            group = service.group_for(session, group_id, lock=True)
            service.decide(session, group, status=status, timeline=timeline, reason=reason, actor=page.actor)
    except HuiyingError as exc:
        return _back(group_id, error=refused(exc))
    return _back(group_id, done="decided")


@router.post(PAGE + "/{group_id}/members")
def move_in(group_id: PathId, db: DB, page: Page, ticket: Annotated[str, Form(max_length=32)]) -> Response:
    _require(page)
    try:
        with db.write() as session:
            found = get_ticket_for(session, page.actor, ticket.strip(), permission=Permission.TICKET_WRITE)
            group = service.group_for(session, group_id, lock=True)
            service.move(session, found, into=group, actor=page.actor)
    except HuiyingError as exc:
        return _back(group_id, error=refused(exc))
    return _back(group_id, done="moved")


@router.post(PAGE + "/{group_id}/split")
def split_out(group_id: PathId, db: DB, page: Page, ticket: Annotated[str, Form(max_length=32)]) -> Response:
    _require(page)
    try:
        with db.write() as session:
            found = get_ticket_for(session, page.actor, ticket.strip(), permission=Permission.TICKET_WRITE)
            new = service.split(session, found, actor=page.actor)
            new_id = new.id
    except HuiyingError as exc:
        return _back(group_id, error=refused(exc))
    return _back(new_id, done="split")
