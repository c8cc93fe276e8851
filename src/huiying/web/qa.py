"""The QA pages (质检): the QA person's queue of this and last week's samples with the scoring
form (the call-back item pre-filled from the call-back), and the scores per agent and week.
Thin: they call the quality package, as the API does, and answer with the page or a redirect."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huiying.accounts import access
from huiying.accounts.access import Permission
from huiying.errors import Forbidden, HuiyingError, InvalidInput
from huiying.http.deps import DB
from huiying.kit.clock import utcnow
from huiying.quality import report, samples, sampling, service
from huiying.quality.models import CRITERIA
from huiying.quality.scoring import Criteria
from huiying.tickets.access import get_ticket_for
from huiying.web.auth import Page, StaffPage, render
from huiying.web.forms import CleanFormRoute
from huiying.web.wording import refused

router = APIRouter(include_in_schema=False, route_class=CleanFormRoute)
PAGE = "/qa"
REPORT = "/reports/qa"
WINDOWS = (4, 12, 26, 52)


def _require_qa(page: StaffPage) -> None:
    if not access.has(page.actor, Permission.QA_SCORE):
        raise Forbidden("your role may not open this page")


def _back(*, done: str | None = None, error: str | None = None) -> RedirectResponse:
    params = {k: v for k, v in (("done", done), ("error", error)) if v}
    return RedirectResponse(PAGE + ("?" + urlencode(params) if params else ""), status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
def qa_page(request: Request, db: DB, page: Page) -> HTMLResponse:
    _require_qa(page)
    weeks = samples.recent_weeks()
    with db.read() as session:
        rows = samples.list_samples(session, weeks=weeks, actor=page.actor, mine=True)
        prefill = service.callback_items(session, [r.ticket for r in rows if not r.scored])
    return render(
        request,
        "qa.html",
        page=page,
        rows=rows,
        weeks=weeks,
        prefill=prefill,
        items=CRITERIA,
        last_week=samples.default_week(),
        done=request.query_params.get("done"),
    )


def _item(name: str, value: str) -> int:
    text = value.strip()
    if text not in ("1", "2", "3", "4", "5"):
        raise InvalidInput(f"{name} must be 1 to 5", code="invalid_criterion", details={"field": name})
    return int(text)


def _optional_item(name: str, value: str) -> int | None:
    """Empty: the ticket had no call-back to judge."""
    return _item(name, value) if value.strip() else None


@router.post(PAGE + "/{number}/review")
def score_ticket(
    number: str,
    db: DB,
    page: Page,
    accuracy: Annotated[str, Form(max_length=2)],
    tone: Annotated[str, Form(max_length=2)],
    timeliness: Annotated[str, Form(max_length=2)],
    process: Annotated[str, Form(max_length=2)],
    callback: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    _require_qa(page)
    try:
        criteria = Criteria(
            accuracy=_item("accuracy", accuracy),
            tone=_item("tone", tone),
            timeliness=_item("timeliness", timeliness),
            process=_item("process", process),
            callback=_optional_item("callback", callback),
        )
        with db.write() as session:
            ticket = get_ticket_for(session, page.actor, number, permission=Permission.QA_SCORE)
            service.review(session, ticket, criteria=criteria, comment=comment.strip(), actor=page.actor)
    except HuiyingError as exc:
        return _back(error=refused(exc))
    return _back(done="scored")


@router.post(PAGE + "/sample")
def sample_last_week(db: DB, page: Page) -> Response:
    """Draw last week's sample now (the hourly job would; nothing new once drawn)."""
    _require_qa(page)
    with db.write() as session:
        samples.sample_week(session, week=samples.default_week(), actor=page.actor)
    return _back(done="sampled")


@router.get(REPORT, response_class=HTMLResponse)
def qa_report_page(
    request: Request, db: DB, page: Page, weeks: Annotated[int, Query(ge=1, le=report.MAX_WEEKS)] = 12
) -> HTMLResponse:
    if not (access.has(page.actor, Permission.QA_SCORE) or access.has(page.actor, Permission.TEAM_MANAGE)):
        raise Forbidden("your role may not open this page")
    span = sampling.weeks_back(utcnow(), samples.local_zone(), weeks)
    with db.read() as session:
        weekly, overall = report.agent_weeks(session, weeks=span)
    cells = {(row.agent, row.week): row for row in weekly}
    return render(
        request,
        "reports_qa.html",
        page=page,
        span=span,
        cells=cells,
        agents=overall,
        items=CRITERIA,
        weeks=weeks,
        windows=WINDOWS,
    )
