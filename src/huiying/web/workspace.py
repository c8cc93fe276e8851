"""The agent workspace: queues, the ticket list, the ticket page and what agents do there.

Every handler is thin: it checks the page permission, calls the same services as the API, and
answers with a page or a redirect back (post/redirect/get), carrying a short notice.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from huiying.accounts import access
from huiying.accounts import service as accounts
from huiying.accounts.access import Permission
from huiying.accounts.models import User
from huiying.categories import service as categories
from huiying.channels import delivery
from huiying.errors import Forbidden, HuiyingError, InvalidInput, NotFound
from huiying.http.deps import DB, AppSettings
from huiying.http.responses import file_response
from huiying.kit.strings import has_visible
from huiying.macros import service as macros
from huiying.portal.links import portal_url
from huiying.tickets import assignees, attachments, lifecycle, present, repository, service
from huiying.tickets.access import get_ticket_for, get_tickets_for
from huiying.tickets.enums import Channel, Priority, Status
from huiying.tickets.models import Attachment, Ticket
from huiying.tickets.repository import TicketQuery
from huiying.web import compensation as compensation_card
from huiying.web import i18n, queues
from huiying.web.auth import Page, StaffPage, render, safe_next
from huiying.web.filters import parse_list_filters
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import Wording, error_text, refused, refused_bulk

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
router.include_router(compensation_card.router)  # the compensation card's forms

PAGE_SIZE = 50


def _require_page(page: StaffPage, permission: Permission) -> None:
    if not access.has(page.actor, permission):
        raise Forbidden("your role may not open this page")


def _back(url: str, notice: str | None = None, error: str | None = None) -> RedirectResponse:
    params = {k: v for k, v in (("notice", notice), ("error", error)) if v}
    separator = "&" if "?" in url else "?"
    return RedirectResponse(url + (separator + urlencode(params) if params else ""), status_code=303)


def _wording(session: Session, request: Request) -> Wording:
    """Names for the slugs and addresses a page shows (teams, categories, staff)."""
    return Wording(
        i18n.language_of(request),
        categories=categories.names(session),
        teams={t.slug: (t.name_zh, t.name_en) for t in accounts.list_teams(session)},
        staff={u.email: u.display_name for u in accounts.list_users(session)},
    )


@router.get("/tickets", response_class=HTMLResponse)
def ticket_list(request: Request, db: DB, settings: AppSettings, page: Page) -> HTMLResponse:
    """The queue sidebar with counts, filters, and one page of tickets."""
    _require_page(page, Permission.TICKET_READ)
    params = request.query_params
    queue = params.get("queue") or "open"
    if queue not in queues.QUEUES:
        queue = "open"
    base = queues.query_for(queue, actor=page.actor, email=page.user.email, due_soon_minutes=settings.due_soon_minutes)
    query, filters = parse_list_filters(params, base, tz=settings.tz)
    with db.read() as session:
        try:
            # Masked for everyone: personal data is shown one ticket at a time (and audited there).
            rows, next_cursor = repository.list_tickets(
                session, query, cursor=params.get("cursor") or None, limit=PAGE_SIZE
            )
        except HuiyingError as exc:
            rows, next_cursor, filters["error"] = [], None, error_text(exc, i18n.language_of(request))
        counts = queues.counts(
            session,
            actor=page.actor,
            email=page.user.email,
            due_soon_minutes=settings.due_soon_minutes,
        )
        context: dict[str, Any] = {
            "tickets": [present.ticket_out(t) for t in rows],
            "next_cursor": next_cursor,
            "queue": queue,
            "counts": counts,
            "filters": filters,
            "category_tree": categories.tree(session),
            "category_names": categories.names(session),
            "staff": assignees.workers(session),  # each ticket's own team is checked on assigning
            "statuses": list(Status),
            "priorities": list(Priority),
            "channels": list(Channel),
            "w": _wording(session, request),
        }
    template = "_rows.html" if params.get("partial") == "rows" else "tickets.html"
    return render(request, template, page=page, **context)


@router.get("/tickets/{number}", response_class=HTMLResponse)
def ticket_page(number: str, request: Request, db: DB, settings: AppSettings, page: Page) -> HTMLResponse:
    """The whole conversation, the timeline, the user's profile and the actions."""
    reveal = access.has(page.actor, Permission.PII_VIEW)
    with db.read() as session:
        try:
            ticket = get_ticket_for(session, page.actor, number)
        except NotFound:
            return render(request, "error.html", status_code=404, message=f"#{number}", page=page)
        family = repository.merged_family(session, ticket)
        messages = repository.messages(session, ticket, include_internal=True, family=family)
        files = list(
            session.scalars(
                select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.message_id.is_(None))
            )
        )
        names = categories.names(session)
        link = portal_url(settings.base_url, settings.resolved_secret_key, ticket.number)
        macro_texts = [
            (
                m,
                macros.fill(
                    m,
                    ticket,
                    agent_name=page.user.display_name,
                    portal_url=link,
                    category_name=names.get(ticket.category or "", (None, None))[0],
                ),
            )
            for m in macros.ordered_for(macros.list_macros(session), ticket, i18n.language_of(request))
        ]
        context: dict[str, Any] = {
            "ticket": present.ticket_out(ticket, reveal_pii=reveal, files=files),
            "messages": [present.message_out(m, reveal_pii=reveal) for m in messages],
            "deliveries": delivery.for_messages(session, [m.id for m in messages if m.kind == "reply"]),
            "notices": delivery.notices_of(session, ticket),
            "events": [
                present.event_out(e, n, reveal_pii=reveal)
                for e, n in repository.timeline(session, ticket, family=family)
            ],
            "others": [
                present.ticket_out(t, reveal_pii=reveal)
                for t in repository.same_person_tickets(session, ticket, limit=10)
                if access.can_see_team(page.actor, t.team_id)
            ],
            "macros": macro_texts,
            "category_tree": categories.tree(session),
            "category_names": names,
            "w": _wording(session, request),
            "teams": accounts.list_teams(session),
            "staff": assignees.eligible(session, ticket.team),
            # Only the moves the status flow accepts from here: a refused one would only error.
            "allowed_statuses": [s for s in Status if s in lifecycle.ALLOWED[Status(ticket.status)]],
            "priorities": list(Priority),
            "can_write": access.has(page.actor, Permission.TICKET_WRITE),
            "can_merge": access.has(page.actor, Permission.TICKET_MERGE),
            "compensation": compensation_card.card(
                session, ticket, page.actor, limit_cny=settings.compensation_approval_cny
            ),
        }
    if reveal:
        from huiying.audit import service as audit

        audit.record_now(db, actor=page.actor, action="pii.viewed", object_type="ticket", object_id=ticket.number)
    return render(request, "ticket.html", page=page, **context)


def _ticket_url(number: str) -> str:
    return f"/tickets/{number}"


@router.post("/tickets/{number}/reply")
def reply(
    number: str,
    db: DB,
    settings: AppSettings,
    page: Page,
    body: Annotated[str, Form(max_length=50_000)],
    internal: Annotated[str | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    text = body.strip()
    if not has_visible(text):
        return _back(_ticket_url(number), error="empty")
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            ids = attachments.store_uploads(
                session,
                files=[(f.filename, f.file) for f in files or []],
                root=settings.attachments_dir,
                max_bytes=settings.max_attachment_bytes,
                uploaded_by_id=page.actor.staff_id,
            )
            service.add_reply(
                session,
                ticket,
                body=text,
                internal=bool(internal),
                actor=page.actor,
                settings=settings,
                attachment_ids=ids,
            )
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(number), notice="noted" if internal else "replied")


@router.post("/tickets/{number}/update")
def update(number: str, request: Request, db: DB, page: Page) -> Response:
    """Save the properties form: category, priority, team, assignee, tags, VIP."""
    form = request.state.form
    patch: dict[str, Any] = {}
    category = form.get("category") or None
    subcategory = form.get("subcategory") or None
    if subcategory and ":" in subcategory:
        category, subcategory = subcategory.split(":", 1)
    patch["category"], patch["subcategory"] = category, subcategory
    if form.get("priority"):
        patch["priority"] = form.get("priority")
    patch["team"] = form.get("team") or None
    patch["assignee"] = form.get("assignee") or None
    patch["tags"] = [t.strip() for t in str(form.get("tags", "")).replace("，", ",").split(",") if t.strip()]
    patch["vip"] = form.get("vip") == "on"
    if "special_group" in form:
        patch["special_group"] = form.get("special_group") or None
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            # The form sends every field; one left as shown is no choice (a category change may
            # still route the ticket to its team).
            if patch["team"] == (ticket.team.slug if ticket.team else None):
                del patch["team"]
            if patch["assignee"] == (ticket.assignee.email if ticket.assignee else None):
                del patch["assignee"]
            service.update_ticket(session, ticket, patch=patch, actor=page.actor)
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(number), notice="saved")


@router.post("/tickets/{number}/status")
def change_status(
    number: str,
    db: DB,
    page: Page,
    status: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    try:
        target = Status(status)
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            service.change_status(session, ticket, status=target, actor=page.actor, note=note.strip() or None)
    except ValueError:
        unknown = InvalidInput(f"unknown status {status!r}", code="unknown_status")
        return _back(_ticket_url(number), error=refused(unknown))
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(number), notice="status_changed")


@router.post("/tickets/{number}/confirm-category")
def confirm_category(number: str, db: DB, page: Page) -> Response:
    """The agent agrees with triage's category: the ticket leaves the refinement queue (and the
    confirmation becomes a training label)."""
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            service.categorize(
                session,
                ticket,
                category=ticket.category,
                subcategory=ticket.subcategory,
                actor=page.actor,
                needs_refinement=False,
            )
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(number), notice="saved")


@router.post("/tickets/{number}/merge")
def merge(number: str, db: DB, page: Page, into: Annotated[str, Form(max_length=32)]) -> Response:
    try:
        with db.write() as session:
            source, target = get_tickets_for(session, page.actor, [number, into], permission=Permission.TICKET_MERGE)
            service.merge(session, source, into=target, actor=page.actor)
            target_number = target.number
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(target_number), notice="merged")


@router.post("/tickets/{number}/escalate")
def escalate(number: str, db: DB, page: Page, reason: Annotated[str, Form(max_length=2_000)]) -> Response:
    """One level up the ladder (sla.escalation), the reason on the timeline."""
    from huiying.sla import escalation

    try:
        if not has_visible(reason):
            raise InvalidInput("give a reason for the escalation", code="empty_reason")
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            escalation.escalate(session, ticket, reason=reason.strip(), actor=page.actor)
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(number), notice="saved")


@router.post("/tickets/{number}/accept")
def accept(number: str, db: DB, page: Page) -> Response:
    """确认接收: the assignee confirms they have the ticket (the same service as the API)."""
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            service.accept(session, ticket, actor=page.actor)
    except HuiyingError as exc:
        return _back(_ticket_url(number), error=refused(exc))
    return _back(_ticket_url(number), notice="saved")


@router.post("/me/availability")
def set_availability(
    db: DB, page: Page, availability: Annotated[str, Form(max_length=16)], back: Annotated[str, Form()] = "/tickets"
) -> Response:
    """The header's switch: available / away / off shift (nobody away or off shift gets work)."""
    from huiying.assignment import service as assignment

    _require_page(page, Permission.TICKET_WRITE)
    # Back to the page the switch was on, without its old notice (only local paths: no open redirect).
    target = safe_next(back).split("?", 1)[0]
    target = "/tickets" if target == "/" else target
    try:
        with db.write() as session:
            user = session.get_one(User, page.actor.staff_id)
            assignment.set_availability(session, user, availability=availability, actor=page.actor)
    except HuiyingError as exc:
        return _back(target, error=refused(exc))
    return _back(target, notice="saved")


@router.post("/tickets-bulk")
def bulk(request: Request, db: DB, page: Page) -> Response:
    """Apply one action to every selected ticket; each ticket in its own transaction."""
    form = request.state.form
    numbers = [str(n) for n in form.getlist("numbers")][:200]
    action = str(form.get("action") or "")
    value = str(form.get("value") or "").strip()
    back = str(form.get("back") or "/tickets")
    if not back.startswith("/tickets"):
        back = "/tickets"
    if not numbers:
        return _back(back, error="bulk.none")
    ok, failed = 0, []
    for number in numbers:
        try:
            with db.write() as session:
                ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
                _bulk_one(session, ticket, action, value, page)
            ok += 1
        except HuiyingError as exc:
            failed.append((number, exc))
        except ValueError:
            failed.append((number, InvalidInput(f"unknown status {value!r}", code="unknown_status")))
    if failed:
        return _back(back, error=refused_bulk(ok, failed))
    return _back(back, notice=f"bulk:{ok}")


def _bulk_one(session: Session, ticket: Ticket, action: str, value: str, page: StaffPage) -> None:
    if action == "assign_me":
        user = session.get_one(User, page.actor.staff_id)
        service.assign(session, ticket, team=ticket.team, assignee=user, actor=page.actor)
    elif action == "assign":
        service.update_ticket(session, ticket, patch={"assignee": value or None}, actor=page.actor)
    elif action == "status":
        service.change_status(session, ticket, status=Status(value), actor=page.actor)
    elif action == "tag":
        if not value:
            raise InvalidInput("no tag given", code="no_tag")
        service.add_tags(session, ticket, tags=[value[:48]], actor=page.actor)
    else:
        raise InvalidInput(f"unknown action {action!r}", code="unknown_action")


@router.get("/files/{attachment_id}")
def staff_file(attachment_id: str, db: DB, settings: AppSettings, page: Page) -> Response:
    """An attachment for the workspace (session login instead of a bearer token)."""
    with db.read() as session:
        row = session.get(Attachment, attachment_id) if len(attachment_id) == 32 else None
        ticket = session.get(Ticket, row.ticket_id) if row and row.ticket_id else None
        if row is None or ticket is None or not access.can_see_team(page.actor, ticket.team_id):
            return Response(status_code=404)
        served = attachments.served(row, root=settings.attachments_dir)
    return file_response(served)


def visible_numbers(session: Session, page: StaffPage, ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Ticket.id, Ticket.number, Ticket.team_id).where(Ticket.id.in_(ids)))
    return {i: n for i, n, team in rows if access.can_see_team(page.actor, team)}


__all__ = ["TicketQuery", "router"]
