"""The notices in the workspace: on the ticket page, telling the user of a delay or that the
problem cannot be solved, and sending a delivery again; the admin tab where the notices' words
are edited in both languages. Thin: the same services as the API, then a redirect back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.channels import delivery
from huiying.errors import Forbidden, HuiyingError, InvalidInput
from huiying.http.deps import DB, AppSettings, PathId
from huiying.notices import quiet, service, triggers, wording
from huiying.tickets.access import get_ticket_for
from huiying.web.auth import Page, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
Sentence = Annotated[str, Form(max_length=triggers.MAX_REASON_CHARS * 2)]


def _back(number: str, *, notice: str | None = None, error: str | None = None, anchor: str = "notices") -> Response:
    params = {k: v for k, v in (("notice", notice), ("error", error)) if v}
    query = "?" + urlencode(params) if params else ""
    return RedirectResponse(f"/tickets/{number}{query}#{anchor}", status_code=303)


@router.post("/tickets/{number}/delay")
def announce_delay(
    number: str,
    db: DB,
    page: Page,
    settings: AppSettings,
    reason: Sentence,
    expected: Annotated[str, Form(max_length=32)],
) -> Response:
    """The form's new expected time is the platform's local time (datetime-local)."""
    try:
        try:
            at = datetime.fromisoformat(expected.strip()).replace(tzinfo=ZoneInfo(settings.timezone))
        except ValueError as exc:
            raise InvalidInput("the new expected time is not a date and time", code="bad_time") from exc
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            triggers.announce_delay(session, ticket, reason=reason, expected_at=at, actor=page.actor)
    except HuiyingError as exc:
        return _back(number, error=refused(exc))
    return _back(number, notice="saved")


@router.post("/tickets/{number}/unsolvable")
def declare_unsolvable(number: str, db: DB, page: Page, reason: Sentence, alternative: Sentence) -> Response:
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            triggers.declare_unsolvable(session, ticket, reason=reason, alternative=alternative, actor=page.actor)
    except HuiyingError as exc:
        return _back(number, error=refused(exc))
    return _back(number, notice="status_changed")


@router.post("/tickets/{number}/deliveries/{delivery_id}/resend")
def resend(number: str, delivery_id: PathId, db: DB, page: Page) -> Response:
    try:
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.TICKET_WRITE)
            delivery.resend(session, ticket, delivery_id, actor=page.actor)
    except HuiyingError as exc:
        return _back(number, error=refused(exc))
    return _back(number, notice="saved")


# --- the admin tab ---------------------------------------------------------------------------------


def _require(page: Page) -> None:
    if not access.has(page.actor, Permission.CONFIG_MANAGE):
        raise Forbidden("your role may not open this page")


@router.get("/admin/notices", response_class=HTMLResponse)
def notices_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require(page)
    with db.read() as session:
        context: dict[str, Any] = {
            "tab": "notices",
            "wordings": service.all_wordings(session),
            "placeholders": wording.PLACEHOLDERS,
            "quiet_kinds": sorted(quiet.WAITS),
        }
    return render(request, "admin_notices.html", page=page, **context)


@router.post("/admin/notices/{kind}/{language}")
def save_notice(
    kind: str,
    language: str,
    db: DB,
    page: Page,
    subject: Annotated[str, Form(max_length=wording.MAX_CHARS["subject"] * 2)],
    body: Annotated[str, Form(max_length=wording.MAX_CHARS["body"] * 2)],
    short: Annotated[str, Form(max_length=wording.MAX_CHARS["short"] * 2)],
    reset: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    _require(page)
    anchor = f"#notice-{kind}-{language}"
    try:
        with db.write() as session:
            if reset:
                service.reset(session, kind=kind, language=language, actor=page.actor)
            else:
                texts = wording.Texts(subject.strip(), body.strip(), short.strip())
                service.save(session, kind=kind, language=language, texts=texts, actor=page.actor)
    except HuiyingError as exc:
        return RedirectResponse(f"/admin/notices?{urlencode({'error': refused(exc)})}{anchor}", status_code=303)
    return RedirectResponse(f"/admin/notices?notice=saved{anchor}", status_code=303)
